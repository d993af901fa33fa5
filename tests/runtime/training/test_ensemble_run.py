"""An ensemble end to end on a small synthetic store: its CRPS falls while it trains, `exec` reports its CRPS and
spread/skill, `predict` writes reproducible members, `evaluate` and `compare` score them next to the baselines
and a deterministic run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from anemoic.plan.model import LossTermPlan, MethodPlan, NoisePlan
from anemoic.runtime.inference.compare import compare
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.predict import predict
from anemoic.runtime.methods import Stream
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.module import ForecastModule
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, run_runtime, tiny_plan, trained_run, write_tiny_plan, write_tiny_store,
)

ENSEMBLE = {
    "task.method": MethodPlan("ensemble", 4, NoisePlan("inject")),
    "loss.terms": (LossTermPlan("crps", params={"alpha": 0.95}, scalers=("variable", "node_weights")),),
    "loss.metrics": ("rmse", "crps", "spread_skill", "rank_histogram"),
}


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    directory = tmp_path_factory.mktemp("ensemble")
    store = write_tiny_store(directory)
    plan = write_tiny_plan(directory, store,
                           **{**ENSEMBLE, "training.epochs": 1, "training.limit_batches_per_epoch": 3})
    result = run_runtime("exec", str(plan), cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return TrainedRun(directory, store, plan, directory / "run", result.stdout)


def test_crps_training_on_a_synthetic_store_lowers_the_loss(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = tiny_plan(store, tmp_path / "run", **ENSEMBLE)
    torch.manual_seed(0)
    parts = build_components(plan, cache_graph=False)
    module = ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                            total_steps=1, lineage={})
    dataset = parts.data.dataset("train")
    batch = torch.stack([dataset[i] for i in range(2)])
    optimiser = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for step in range(12):
        optimiser.zero_grad()
        x = module.normalise(batch)
        model = module.bound_model(Stream.TRAIN, step)
        loss = module.task.training_loss(model, module.loss, x, 0, module.missing(batch))
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_exec_reports_the_ensemble_mean_rmse_and_the_crps_with_spread_skill(ensemble_run: TrainedRun) -> None:
    out = ensemble_run.stdout
    assert "validation ensemble-mean RMSE on 17 samples" in out
    assert "The 4-member ensemble's CRPS on the same samples" in out
    crps = out[out.index("The 4-member ensemble's CRPS"):]
    header = next(line for line in crps.splitlines() if line.startswith("variable"))
    assert header.split() == ["variable", "lead", "model", "persistence", "climatology", "vs", "pers.", "vs", "clim.",
                              "spread/skill"]


def test_predict_writes_members_the_seed_reproduces(ensemble_run: TrainedRun) -> None:
    first = predict(str(ensemble_run.run_dir), "2020-01-22T06:00", 2)
    again = predict(str(ensemble_run.run_dir), "2020-01-22T06:00", 2)
    other = predict(str(ensemble_run.run_dir), "2020-01-22T06:00", 2, seed=99)
    assert first.fields.shape == (3, 4, 128, 9)
    assert np.array_equal(first.fields, again.fields) and not np.array_equal(first.fields, other.fields)
    assert np.array_equal(first.fields[0], np.broadcast_to(first.fields[0, :1], first.fields[0].shape))  # analysis
    assert np.abs(first.fields[1:, 0] - first.fields[1:, 1]).max() > 0  # the members differ


def test_evaluate_scores_the_members_as_an_ensemble(ensemble_run: TrainedRun) -> None:
    from anemoic.runtime.inference.forecast_io import write_forecast

    path = write_forecast(predict(str(ensemble_run.run_dir), "2020-01-22T06:00", 2),
                          ensemble_run.directory / "members.zarr")
    text = evaluate(str(path))
    assert ": the mean of 4 members" in text.splitlines()[0]
    assert "The 4-member ensemble's CRPS" in text and "spread/skill" in text


def test_compare_scores_a_deterministic_run_and_an_ensemble_on_the_same_samples(
        trained_run: TrainedRun, ensemble_run: TrainedRun) -> None:  # noqa: F811
    text = compare([str(trained_run.run_dir), str(ensemble_run.run_dir)])
    lines = text.splitlines()
    assert lines[0].startswith("2 runs on the same 17 validation samples")
    rows = [line.split() for line in lines[5:9]]  # z_500 at +6h: the two runs, persistence, climatology
    assert rows[0][:2] == ["z_500", "+6h"]
    assert [(row[-5], row[-4]) for row in rows[2:]] == [("persistence", "1"), ("climatology", "1")]
    assert [row[-4] for row in rows[:2]] == ["1", "4"]  # members: the deterministic run, then the ensemble
    assert rows[0][-1] == "-" and rows[1][-1] != "-"  # spread/skill: the ensemble's only
