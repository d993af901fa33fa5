"""The autoencoder on a small synthetic store: its loss falls while it trains, nothing reaches its output except
through the hidden mesh, and `exec` reports the reconstruction per variable (no lead time, no persistence)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from anemoic.plan.model import TaskPlan
from anemoic.runtime.methods import Stream
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.module import ForecastModule
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, tiny_plan, trained_autoencoder, write_tiny_store,
)

AUTOENCODER = {"task": TaskPlan(kind="autoencoder", timestep_s=6 * 3600), "loss.metrics": ("rmse", "mae")}


def module_of(store: Path, run_dir: Path, **overrides: object) -> ForecastModule:
    plan = tiny_plan(store, run_dir, **{**AUTOENCODER, **overrides})
    parts = build_components(plan, cache_graph=False)
    return ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                          total_steps=1, lineage={})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_store(tmp_path_factory.mktemp("autoencoder"))


def test_a_sample_is_one_state(store: Path, tmp_path: Path) -> None:
    module = module_of(store, tmp_path / "run")
    sample = build_components(module.plan, cache_graph=False).data.dataset("train")[0]
    assert sample.shape[0] == 1
    assert module.task.target_times(1) == slice(0, 1)


def test_reconstruction_training_lowers_the_loss(store: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = module_of(store, tmp_path / "run")
    dataset = build_components(module.plan, cache_graph=False).data.dataset("train")
    batch = torch.stack([dataset[i] for i in range(4)])
    optimiser = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for step in range(20):
        optimiser.zero_grad()
        loss = module.task.training_loss(module.bound_model(Stream.TRAIN, step), module.loss, module.normalise(batch),
                                         0, module.missing(batch))
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses


class _Blindfold(nn.Module):
    """An encoder that passes the hidden nodes' own embedding on and ignores the data: the mesh carries nothing."""

    def forward(self, x_data: torch.Tensor, x_hidden: torch.Tensor) -> torch.Tensor:
        return x_hidden


def test_nothing_reaches_the_output_except_through_the_mesh(store: Path, tmp_path: Path) -> None:
    module = module_of(store, tmp_path / "run")
    model = module.model
    assert model.processor is None and not any(k.startswith("processor.") for k in model.state_dict())
    x = torch.randn(2, 1, 1, model.grid_size, len(module.plan.indices.input))
    assert not torch.allclose(model(x), model(x + 1.0))  # the input matters through the encoder ...
    model.encoder = _Blindfold()
    assert torch.equal(model(x), model(x + 1.0))  # ... and only through it: no residual, no skip to the decoder
    with torch.no_grad():
        model.output_projection.weight.zero_()
        model.output_projection.bias.zero_()
    assert torch.equal(model(x), torch.zeros_like(model(x)))  # nothing is added back to the output


def test_exec_reports_the_reconstruction_per_variable(trained_autoencoder: TrainedRun) -> None:
    out = trained_autoencoder.stdout
    report = out[out.index("End of run test: reconstruction of"):]
    header = next(line for line in report.splitlines() if line.startswith("variable"))
    assert header.split() == ["variable", "rmse", "stdev", "rmse/stdev", "climatology", "vs", "clim."]
    rows = [line.split() for line in report.splitlines()[4:] if line and not line.startswith("-")]
    assert [row[0] for row in rows] == list(tiny_plan(trained_autoencoder.store, Path("run")).indices.output)


def test_metrics_are_logged_per_variable_without_a_lead_time(trained_autoencoder: TrainedRun) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=trained_autoencoder.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name("tests").experiment_id])
    metrics = set(run.data.metrics)
    assert {"val/rmse/z_500", "val/mae/2t", "val/loss"} <= metrics
    assert not any(key.startswith("val/rmse/") and key.count("/") > 2 for key in metrics)  # no lead
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id, "plots")]
    assert any(a.startswith("plots/fields-") for a in artifacts)
    assert not any(a.startswith("plots/error-by-lead-") for a in artifacts)  # one reconstruction, no leads
