"""A temporal downscaler end to end on a small synthetic store: `exec` trains it and reports every target offset
next to the linear interpolation between its inputs; `predict` writes its targets and `evaluate` scores them
against the store next to the same interpolation; `predict` refuses more steps than it has targets; `compare`
puts it next to the interpolation and refuses to compare it with a forecaster."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.datasets.store import open_store
from anemoic.plan.model import TaskPlan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.compare import compare
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import write_forecast
from anemoic.runtime.inference.predict import predict
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, run_runtime, trained_run, write_tiny_plan, write_tiny_store,
)

HOUR = 3600
# inputs at t and t + 18 h, targets t + 6 h and t + 12 h, on the 6-hourly store
DOWNSCALER = TaskPlan(kind="temporal_downscaler", timestep_s=6 * HOUR, multistep_input=2, input_offsets=(0, 3),
                      target_offsets=(1, 2))


@pytest.fixture(scope="module")
def downscaler_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    directory = tmp_path_factory.mktemp("downscaler")
    store = write_tiny_store(directory)
    plan = write_tiny_plan(directory, store, **{"task": DOWNSCALER, "training.epochs": 1,
                                                "training.limit_batches_per_epoch": 3,
                                                "loss.metrics": ("rmse", "mae")})
    result = run_runtime("exec", str(plan), cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return TrainedRun(directory, store, plan, directory / "run", result.stdout)


def test_exec_reports_every_target_next_to_linear_interpolation(downscaler_run: TrainedRun) -> None:
    lines = downscaler_run.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("variable"))
    assert lines[header].split() == ["variable", "lead", "model", "linear", "climatology", "vs", "lin.", "vs",
                                     "clim."]
    rows = [line.split() for line in lines[header + 2:] if line.strip()][:2]
    assert [row[:2] for row in rows] == [["z_500", "+6h"], ["z_500", "+12h"]]  # both targets, from t
    assert "(variable, lead) pairs" in downscaler_run.stdout


def test_predict_writes_the_targets_and_evaluate_scores_them_against_the_store(downscaler_run: TrainedRun) -> None:
    forecast = predict(str(downscaler_run.run_dir), "2020-01-22T06:00", 2)
    assert [str(d) for d in forecast.dates] == ["2020-01-22T06:00:00", "2020-01-22T12:00:00", "2020-01-22T18:00:00"]
    assert forecast.info["lead_offsets"] == [1, 2]
    assert forecast.info["interpolation"]["input_dates"] == ["2020-01-22T06:00:00", "2020-01-23T00:00:00"]
    store = open_store(downscaler_run.store)
    first = store.read(store.date_index("2020-01-22T06:00"))[store.name_to_index["z_500"], 0]
    np.testing.assert_allclose(forecast.fields[0, 0, :, 0], first)  # lead 0: the state at t
    path = write_forecast(forecast, downscaler_run.directory / "between.zarr")
    text = evaluate(str(path))
    header = next(line for line in text.splitlines() if line.startswith("variable"))
    assert header.split()[3] == "linear"
    assert [line.split()[1] for line in text.splitlines() if line.startswith("z_500")] == ["+6h", "+12h"]


def test_predict_refuses_more_steps_than_targets(downscaler_run: TrainedRun) -> None:
    with pytest.raises(RuntimeUserError, match="predicts 2 state"):
        predict(str(downscaler_run.run_dir), "2020-01-22T06:00", 3)


def test_compare_shows_the_linear_interpolation_and_refuses_a_forecaster(
        downscaler_run: TrainedRun, trained_run: TrainedRun) -> None:  # noqa: F811
    text = compare([str(downscaler_run.run_dir), str(downscaler_run.directory / "run" / "checkpoints")])
    rows = [line.split() for line in text.splitlines()[5:8]]  # z_500 at +6h: the two runs, then the baselines
    assert rows[0][:2] == ["z_500", "+6h"] and [row[0] for row in rows[2:]] == ["linear"]
    with pytest.raises(RuntimeUserError, match="differs from the first run in its task"):
        compare([str(downscaler_run.run_dir), str(trained_run.run_dir)])
