"""The spatial downscaler on two real synthetic stores (a fine 8 x 16 grid, a coarse 4 x 8 one): a sample holds
the coarse field on the coarse points and its bilinear interpolation on the fine points, then the truth; the
coarse points are normalised with the coarse store's statistics; the model starts from the interpolation; a
few steps of training lower the loss (deterministic and as an ensemble)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr

from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store
from anemoic.geo.interpolation import bilinear
from anemoic.plan.model import DatasetPlan, LossTermPlan, MethodPlan, NoisePlan, Plan, SourcePlan, TaskPlan
from anemoic.plan.windows import sample_offsets
from anemoic.runtime.data.pairs import PairDataModule
from anemoic.runtime.methods import Stream
from anemoic.runtime.tasks import TASKS, SpatialDownscalerTask
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.module import ForecastModule
from tests.runtime.training.tiny_run import tiny_plan, write_tiny_store

DOWNSCALER = TaskPlan(kind="spatial_downscaler", timestep_s=6 * 3600)


def write_coarse_store(directory: Path) -> Path:
    """The tiny store's variables and dates on a 4 x 8 grid (its own random fields and statistics)."""
    return write_synthetic_store(directory / "coarse.zarr", grid=(4, 8), end="2020-01-25T18:00", seed=1)


def downscaler_plan(fine: Path, coarse: Path, run_dir: Path, **overrides: object) -> Plan:
    """The tiny plan as a spatial downscaler from ``coarse`` to ``fine``."""
    task = overrides.pop("task", DOWNSCALER)  # set with the source: a plan has both or neither
    plan = tiny_plan(fine, run_dir, **overrides)
    meta = open_store(coarse).metadata
    source = SourcePlan(DatasetPlan(name="coarse", path=str(coarse), fingerprint=meta.fingerprint,
                                    frequency_s=plan.dataset.frequency_s, grid_size=meta.grid_size, ensemble_size=1,
                                    train=plan.dataset.train, validate=plan.dataset.validate),
                        variables=tuple(dataclasses.replace(v, store_index=meta.variables.index(v.name))
                                        if v.store_index >= 0 else v for v in plan.variables))
    return dataclasses.replace(plan, task=task, source=source)  # type: ignore[arg-type]


ENSEMBLE = {"task": dataclasses.replace(DOWNSCALER, method=MethodPlan("ensemble", 4, NoisePlan("inject"))),
            "loss.terms": (LossTermPlan("crps", params={"alpha": 0.95}, scalers=("variable", "node_weights")),)}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("spatial")
    return write_tiny_store(directory), write_coarse_store(directory)


def _module(stores: tuple[Path, Path], tmp_path: Path, **overrides: object
            ) -> tuple[ForecastModule, PairDataModule]:
    plan = downscaler_plan(*stores, tmp_path / "run", **overrides)
    torch.manual_seed(0)
    parts = build_components(plan, cache_graph=False)
    assert isinstance(parts.data, PairDataModule)
    return ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                          total_steps=1, lineage={}), parts.data


def test_a_sample_is_the_coarse_field_and_its_interpolation_then_the_truth(stores: tuple[Path, Path],
                                                                             tmp_path: Path) -> None:
    """Against the raw zarr arrays, read without the runtime's store reader."""
    module, data = _module(stores, tmp_path)
    assert sample_offsets(DOWNSCALER, "train") == (0,) and TASKS["spatial_downscaler"] is SpatialDownscalerTask
    fine, coarse = (zarr.open(str(s), mode="r") for s in stores)
    names = list(fine.attrs["variables"])
    matrix = bilinear(coarse["latitudes"][:], coarse["longitudes"][:], fine["latitudes"][:], fine["longitudes"][:])
    n = data.source_size
    dataset = data.dataset("validate")
    for index in (0, len(dataset) - 1):
        sample = dataset[index]  # (2, 1, n + G, V_data)
        date = int(data.validation_starts[index])
        assert str(dataset.dates(index)[0]) == str(np.datetime64(fine["dates"][date], "s"))
        for v, name in enumerate(module.plan.indices.data):
            if name not in names:
                continue
            c, f = coarse["data"][date, names.index(name), 0], fine["data"][date, names.index(name), 0]
            np.testing.assert_array_equal(sample[0, 0, :n, v].numpy(), c)
            np.testing.assert_array_equal(sample[1, 0, n:, v].numpy(), f)
            role = next(x.role for x in module.plan.variables if x.name == name)
            if role != "forcing":
                np.testing.assert_allclose(sample[0, 0, n:, v].numpy(), matrix.apply(c[:, None])[:, 0], rtol=1e-5)
            else:
                np.testing.assert_array_equal(sample[0, 0, n:, v].numpy(), f)  # the fine grid's own forcing
    # each grid is normalised with its own store's statistics
    normalised = module.normalise(torch.stack([dataset[0]]))
    name = module.plan.indices.prognostic[0]
    v, s = module.plan.indices.data.index(name), names.index(name)
    for points, store in ((slice(None, n), coarse), (slice(n, None), fine)):
        expected = (dataset[0][1, 0, points, v].double() - float(store["mean"][s])) / float(store["stdev"][s])
        torch.testing.assert_close(normalised[0, 1, 0, points, v].double(), expected, rtol=1e-5, atol=1e-5)


def test_the_model_starts_from_the_interpolation_and_only_the_fine_points_count(stores: tuple[Path, Path],
                                                                                 tmp_path: Path) -> None:
    module, data = _module(stores, tmp_path)
    assert (module.node_weights[:data.source_size] == 0).all() and module.node_weights.sum() == pytest.approx(1)
    batch = torch.stack([data.dataset("train")[i] for i in range(2)])
    torch.nn.init.zeros_(module.model.output_projection.weight)  # the network adds nothing: the residual remains
    torch.nn.init.zeros_(module.model.output_projection.bias)
    predictions = module.task.validation_rollout(module.model, module.normalise(batch)).predictions
    physical = module.denormalise_output(predictions)
    prognostic = [module.plan.indices.output.index(n) for n in module.plan.indices.prognostic]
    torch.testing.assert_close(physical[..., prognostic], module.task.baseline(batch, 1)[..., prognostic],
                               rtol=1e-4, atol=1e-3)


def _train(module: ForecastModule, data: PairDataModule, steps: int = 12) -> list[float]:
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


def test_training_a_spatial_downscaler_lowers_the_loss(stores: tuple[Path, Path], tmp_path: Path) -> None:
    losses = _train(*_module(stores, tmp_path))
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_training_a_spatial_downscaling_ensemble_lowers_its_crps(stores: tuple[Path, Path], tmp_path: Path) -> None:
    module, data = _module(stores, tmp_path, **ENSEMBLE)
    x = module.normalise(torch.stack([data.dataset("train")[0]]))
    members = module.task.validation_rollout(module.bound_model(Stream.VALIDATE, 0), x).predictions
    assert members.shape[:3] == (1, 1, 4) and (members[:, :, 0] - members[:, :, 1]).abs().max() > 0
    losses = _train(module, data)
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses
