"""Debug mode: the NaN/Inf guard names where a bad value appeared (golden), on real stores and a real Trainer."""

from __future__ import annotations

from pathlib import Path

import dataclasses

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import zarr

from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.io import write_plan
from anemoic.plan.model import ImputerPlan
from anemoic.runtime.training.build import TrainingData, build_components
from anemoic.runtime.training.debug import TRAIN_SAMPLES, NonFiniteGuard, NonFiniteValue, build_guard, debug_subset
from anemoic.runtime.training.module import ForecastModule
from anemoic.runtime.training.run import build_trainer
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import run_runtime, tiny_plan, write_tiny_plan, write_tiny_store

GOLDEN = Path(__file__).parent / "golden"


def plant(store: Path, date: int, variable: int, grid: int, value: float) -> None:
    """Write one bad value into the store's data array (T, V, E, G) behind its statistics' back."""
    zarr.open_group(str(store), mode="r+")["data"][date, variable, 0, grid] = value


def test_a_nan_planted_in_the_store_is_named_by_variable_grid_point_and_date(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plant(store, date=9, variable=3, grid=37, value=np.nan)  # t_850 at 2020-01-03T06:00
    plan = write_tiny_plan(tmp_path, store)
    result = run_runtime("exec", str(plan), "--debug", cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert result.stdout.startswith(f"debug: training on {TRAIN_SAMPLES} of 77 samples")
    message = result.stderr.strip().splitlines()[-1]
    assert_golden(message + "\n", GOLDEN / "debug_raw_input.txt")
    assert not (tmp_path / "run" / "report.txt").exists()


def test_without_debug_the_same_store_trains_into_nans(tmp_path: Path) -> None:
    """What the guard is for: the flags say the store is clean, so nothing else looks at every value."""
    store = write_tiny_store(tmp_path)
    plant(store, date=9, variable=3, grid=37, value=np.nan)
    plan = write_tiny_plan(tmp_path, store, **{"training.epochs": 1, "training.limit_batches_per_epoch": 16})
    result = run_runtime("exec", str(plan), cwd=tmp_path)
    assert result.returncode == 0 and "nan" in result.stdout.lower(), result.stdout[-2000:]


def test_an_infinity_in_the_plan_setting_is_caught_too(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plant(store, date=4, variable=8, grid=5, value=np.inf)  # tp at 2020-01-02T00:00
    plan = write_tiny_plan(tmp_path, store, **{"training.debug": True})
    result = run_runtime("exec", str(plan), cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: debug: +inf in the raw input at training step ")
    assert "variable 'tp', grid point 5 (lat " in result.stderr and "date 2020-01-02T00:00" in result.stderr


def test_imputed_nans_pass_the_guard_and_a_debug_run_trains_to_its_report(tmp_path: Path) -> None:
    store = write_synthetic_store(tmp_path / "nans.zarr", grid=(8, 16), end="2020-01-25T18:00", nan_fraction=0.1,
                                  nan_variables=("2t",))
    plan = tiny_plan(store, tmp_path / "run", **{"training.debug": True, "training.epochs": 1})
    variables = tuple(dataclasses.replace(v, imputer=ImputerPlan("statistic", statistic="mean")) if v.name == "2t"
                      else v for v in plan.variables)
    write_plan(dataclasses.replace(plan, variables=variables), tmp_path / "plan.json")
    result = run_runtime("exec", "plan.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "debug: training on 16 of 77 samples" in result.stdout and "validating on 4 of 17" in result.stdout
    assert "End of run test: validation RMSE on 4 samples" in result.stdout


class BadWeight(pl.Callback):
    """Sets one weight of a model component to NaN before training step ``step``."""

    def __init__(self, component: str, step: int) -> None:
        self.component, self.step = component, step

    def on_train_batch_start(self, trainer: pl.Trainer, module: ForecastModule, batch: object, index: int) -> None:
        if trainer.global_step == self.step:
            weight = next(p for p in getattr(module.model, self.component).parameters() if p.dim() == 2)
            with torch.no_grad():
                weight[0, 0] = float("nan")


def _train_with_bad_weight(tmp_path: Path, component: str, step: int) -> str:
    store = write_tiny_store(tmp_path)
    plan = tiny_plan(store, tmp_path / "run", **{"training.debug": True})
    pl.seed_everything(plan.seed, workers=True, verbose=False)
    parts = build_components(plan)
    debug_subset(parts.data)
    module = ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                            total_steps=10, lineage={})
    data = TrainingData(parts.data, None)
    module.guard = build_guard(plan, parts.data, lambda: data.train_loader, parts.task)
    module.guard.attach(module.model)
    trainer = build_trainer(plan, [BadWeight(component, step)], None, max_steps=step + 2, debug=True)
    trainer.enable_progress_bar = False
    with pytest.raises(NonFiniteValue) as stop:
        trainer.fit(module, datamodule=data)
    return str(stop.value)


def test_a_bad_weight_names_the_step_and_the_component(tmp_path: Path) -> None:
    messages = [_train_with_bad_weight(tmp_path / c, c, step) for c, step in
                (("encoder", 0), ("processor", 2), ("decoder", 1))]
    assert_golden("\n".join(messages) + "\n", GOLDEN / "debug_bad_weight.txt")


def _guard(target_times: object) -> NonFiniteGuard:
    """A guard over a 3-point grid whose samples hold the days 2020-01-01 .. 2020-01-05."""
    dates = np.arange("2020-01-01", "2020-01-06", dtype="datetime64[D]").astype("datetime64[s]")
    guard = NonFiniteGuard(("a", "b"), ("a", "b"), (False, False), np.array([10.0, 20.0, 30.0]),
                           np.array([0.0, 90.0, 180.0]), target_times, lambda sample, size: dates)
    guard.active = True
    return guard


def test_a_bad_output_is_dated_for_every_task() -> None:
    """A forecaster's lead, each of a downscaler's targets (all at once: B, S, E, G, V) and an autoencoder's
    one state are dated by the task's own target positions."""
    forecaster = _guard(lambda steps: slice(2, 2 + steps))  # 2 inputs, then the leads
    output = torch.zeros(1, 1, 3, 2)
    forecaster._output(None, None, output)  # lead 1 is finite
    output[0, 0, 2, 1] = float("nan")
    with pytest.raises(NonFiniteValue, match=r"rollout lead 2 .*variable 'b', grid point 2 \(lat 30.00, lon 180.00\), "
                                             r"target date 2020-01-04T00:00"):
        forecaster._output(None, None, output)
    downscaler = _guard(lambda steps: [1, 2, 3][:steps])  # inputs at 0 and 4, targets 1, 2, 3
    output = torch.zeros(1, 3, 1, 3, 2)
    output[0, 2, 0, 1, 0] = float("inf")
    with pytest.raises(NonFiniteValue, match=r"\+inf in the model output at training step 0, target 3 .*variable 'a', "
                                             r"grid point 1 .*target date 2020-01-04T00:00"):
        downscaler._output(None, None, output)
    autoencoder = _guard(lambda steps: slice(0, 1))
    output = torch.zeros(1, 1, 3, 2)
    output[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteValue, match=r"target date 2020-01-01T00:00"):
        autoencoder._output(None, None, output)
