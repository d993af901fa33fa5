"""The temporal downscaler on a real synthetic store: its window reads the store's states at the plan's offsets,
its baseline is the linear interpolation between the inputs, the model starts from that interpolation, and a
few steps of training lower the loss (deterministic and as an ensemble)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from anemoic.plan.model import LossTermPlan, MethodPlan, NoisePlan, TaskPlan
from anemoic.plan.windows import interpolation_weights, sample_offsets, window_length
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.methods import Stream
from anemoic.runtime.tasks import TASKS, TemporalDownscalerTask
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.module import ForecastModule
from tests.runtime.training.tiny_run import tiny_plan, write_tiny_store

HOUR = 3600
# inputs at t and t + 36 h, targets at t + 12 h and t + 24 h: timesteps of 12 h on a 6-hourly store (every 2nd date)
DOWNSCALER = TaskPlan(kind="temporal_downscaler", timestep_s=12 * HOUR, multistep_input=2, input_offsets=(0, 3),
                      target_offsets=(1, 2))
ENSEMBLE = {"task": TaskPlan(**{**DOWNSCALER.__dict__, "method": MethodPlan("ensemble", 4, NoisePlan("inject"))}),
            "loss.terms": (LossTermPlan("crps", params={"alpha": 0.95}, scalers=("variable", "node_weights")),)}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_store(tmp_path_factory.mktemp("downscale"))


def _module(store: Path, tmp_path: Path, **overrides: object) -> tuple[ForecastModule, AnemoicDataModule]:
    plan = tiny_plan(store, tmp_path / "run", **{"task": DOWNSCALER, **overrides})
    torch.manual_seed(0)
    parts = build_components(plan, cache_graph=False)
    return ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                          total_steps=1, lineage={}), parts.data


def test_the_window_holds_the_inputs_then_the_targets_between_them() -> None:
    assert sample_offsets(DOWNSCALER, "train") == sample_offsets(DOWNSCALER, "validate") == (0, 3, 1, 2)
    assert window_length(DOWNSCALER, "train") == 4
    np.testing.assert_allclose(interpolation_weights(DOWNSCALER), ((2 / 3, 1 / 3), (1 / 3, 2 / 3)), rtol=1e-15)
    three = TaskPlan(kind="temporal_downscaler", timestep_s=1, multistep_input=3, input_offsets=(0, 2, 6),
                     target_offsets=(1, 3, 5))
    assert interpolation_weights(three) == ((0.5, 0.5, 0.0), (0.0, 0.75, 0.25), (0.0, 0.25, 0.75))
    assert TASKS["temporal_downscaler"] is TemporalDownscalerTask


def test_targets_are_the_stores_intermediate_states(store: Path, tmp_path: Path) -> None:
    """Inputs and targets against the raw zarr array, read without the runtime's store reader."""
    module, parts_data = _module(store, tmp_path)
    dataset = parts_data.dataset("train")
    raw = zarr.open(str(store), mode="r")
    names = list(raw.attrs["variables"])
    task = module.task
    for index in (0, 5, len(dataset) - 1):
        sample = dataset[index].unsqueeze(0)  # (1, 4, 1, G, V_data): positions 0..3, 12 h apart
        first = int(parts_data.train_starts[index])
        for position, hours in zip(task.target_times(2), (12, 24)):
            date = first + hours // 6
            target = task.targets(sample, 2)[0, position - 1, 0]
            for v, name in enumerate(module.plan.indices.output):
                np.testing.assert_array_equal(target[:, v].numpy(), raw["data"][date, names.index(name), 0])
        assert str(dataset.dates(index)[1]) == str(np.datetime64(raw["dates"][first + 2], "s"))
        inputs = sample[:, list(task.plan.input_offsets)]
        for position, hours in enumerate((0, 36)):
            name = module.plan.indices.prognostic[0]
            np.testing.assert_array_equal(inputs[0, position, 0, :, module.plan.indices.data.index(name)].numpy(),
                                          raw["data"][first + hours // 6, names.index(name), 0])
        # the baseline: the linear interpolation in time between t and t + 36 h
        left, right = (raw["data"][first + h // 6][[names.index(n) for n in module.plan.indices.output], 0]
                       for h in (0, 36))
        baseline = task.baseline(sample, 2)[0, :, 0].numpy()  # (2, G, V)
        for s, fraction in enumerate((1 / 3, 2 / 3)):
            np.testing.assert_allclose(baseline[s], ((1 - fraction) * left + fraction * right).T, rtol=1e-6)


def test_the_model_predicts_every_target_at_once_from_the_interpolation(store: Path, tmp_path: Path) -> None:
    module, data = _module(store, tmp_path)
    batch = torch.stack([data.dataset("train")[i] for i in range(2)])
    x = module.normalise(batch)
    predictions = module.task.validation_rollout(module.model, x).predictions
    assert predictions.shape == (2, 2, 1, batch.shape[3], len(module.plan.indices.output))
    torch.nn.init.zeros_(module.model.output_projection.weight)  # the network adds nothing: the residual remains
    torch.nn.init.zeros_(module.model.output_projection.bias)
    interpolated = module.task.validation_rollout(module.model, x).predictions
    expected = module.task.baseline(x, 2)  # the interpolation of the normalised inputs
    prognostic = [module.plan.indices.output.index(n) for n in module.plan.indices.prognostic]
    torch.testing.assert_close(interpolated[..., prognostic], expected[..., prognostic])


def _train(module: ForecastModule, data: AnemoicDataModule, steps: int = 12) -> list[float]:
    dataset = data.dataset("train")
    batch = torch.stack([dataset[i] for i in range(2)])
    optimiser = torch.optim.AdamW(module.parameters(), lr=3e-3)
    losses = []
    for step in range(steps):
        optimiser.zero_grad()
        loss = module.task.training_loss(module.bound_model(Stream.TRAIN, step), module.loss,
                                         module.normalise(batch), 0, module.missing(batch))
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def test_training_a_downscaler_lowers_the_loss(store: Path, tmp_path: Path) -> None:
    losses = _train(*_module(store, tmp_path))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_training_a_downscaling_ensemble_lowers_its_crps(store: Path, tmp_path: Path) -> None:
    module, data = _module(store, tmp_path, **ENSEMBLE)
    x = module.normalise(torch.stack([data.dataset("train")[0]]))
    members = module.task.validation_rollout(module.bound_model(Stream.VALIDATE, 0), x).predictions
    assert members.shape[:3] == (1, 2, 4) and (members[:, :, 0] - members[:, :, 1]).abs().max() > 0
    losses = _train(module, data)
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
