"""A spatial downscaler end to end on two small synthetic stores: `exec` trains it and reports it next to the
bilinear interpolation of the coarse field; `predict` writes fine fields for consecutive dates and `evaluate`
scores them against the fine store next to the same interpolation; a date the coarse store lacks leaves its
sample out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.io import write_plan
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import write_forecast
from anemoic.runtime.inference.predict import predict
from tests.runtime.tasks.test_spatial_downscaler import downscaler_plan, write_coarse_store
from tests.runtime.training.tiny_run import TINY_DEFAULTS, TrainedRun, run_runtime, write_tiny_store


@pytest.fixture(scope="module")
def spatial_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    directory = tmp_path_factory.mktemp("spatial_run")
    fine, coarse = write_tiny_store(directory), write_coarse_store(directory)
    plan = downscaler_plan(fine, coarse, directory / "run", **{**TINY_DEFAULTS, "training.epochs": 1,
                                                                "training.limit_batches_per_epoch": 3,
                                                                "loss.metrics": ("rmse", "mae")})
    write_plan(plan, directory / "plan.json")
    result = run_runtime("exec", str(directory / "plan.json"), cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return TrainedRun(directory, fine, directory / "plan.json", directory / "run", result.stdout)


def test_exec_reports_the_model_next_to_the_bilinear_interpolation(spatial_run: TrainedRun) -> None:
    lines = spatial_run.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("variable"))
    assert lines[header].split() == ["variable", "lead", "model", "bilinear", "climatology", "vs", "bilin.", "vs",
                                     "clim."]
    assert "(variable, lead) pairs" in spatial_run.stdout


def test_predict_writes_fine_fields_and_evaluate_scores_them_next_to_the_interpolation(
        spatial_run: TrainedRun) -> None:
    forecast = predict(str(spatial_run.run_dir), "2020-01-22T06:00", 3)
    store = open_store(spatial_run.store)
    assert [str(d) for d in forecast.dates] == ["2020-01-22T06:00:00", "2020-01-22T12:00:00", "2020-01-22T18:00:00"]
    assert forecast.fields.shape[:3] == (3, 1, store.metadata.grid_size)  # the fine grid alone
    np.testing.assert_array_equal(forecast.latitudes, store.latitudes)
    assert forecast.area_weight.sum() == pytest.approx(1.0) and forecast.info["task"] == "spatial_downscaler"
    path = write_forecast(forecast, spatial_run.directory / "fine.zarr")
    text = evaluate(str(path))
    header = next(line for line in text.splitlines() if line.startswith("variable"))
    assert header.split()[3] == "bilinear" and "bilinear interpolation of coarse.zarr" in text
    assert len([line for line in text.splitlines() if line.startswith("z_500")]) == 1
    with pytest.raises(RuntimeUserError, match="beyond the last date"):
        predict(str(spatial_run.run_dir), "2020-01-25T12:00", 3)


def test_a_date_the_coarse_store_lacks_leaves_its_sample_out(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    fine = write_tiny_store(tmp_path)
    coarse = write_synthetic_store(tmp_path / "gappy.zarr", grid=(4, 8), end="2020-01-25T18:00",
                                   missing_dates=["2020-01-22T06:00"])
    full = AnemoicDataModule.from_plan(downscaler_plan(fine, write_coarse_store(tmp_path), tmp_path / "a"))
    gappy = AnemoicDataModule.from_plan(downscaler_plan(fine, coarse, tmp_path / "b"))
    assert len(gappy.validation_starts) == len(full.validation_starts) - 1
    assert "1 validate sample(s) left out" in caplog.text
    dates = [str(gappy.dataset("validate").dates(i)[0]) for i in range(len(gappy.validation_starts))]
    assert "2020-01-22T06:00:00" not in dates


def test_compare_shows_the_interpolation_and_convert_refuses_in_one_line(spatial_run: TrainedRun) -> None:
    from anemoic.runtime.inference.compare import compare
    from anemoic.runtime.inference.convert import convert_one

    text = compare([str(spatial_run.run_dir)])
    assert "bilinear" in text
    with pytest.raises(RuntimeUserError, match="spatial downscaler's checkpoint"):
        convert_one(spatial_run.run_dir, spatial_run.directory)
