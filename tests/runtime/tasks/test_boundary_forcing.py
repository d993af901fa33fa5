"""Boundary forcing is live: a limited-area model's forecast inside the region answers to the boundary dataset
near the border and not far inside (the model's receptive field is bounded), and from the second rollout step
on, the boundary's data at the valid time of the step before, not the model's own prediction, is fed back."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import torch
from scipy.spatial import cKDTree

from anemoic.datasets.store import open_store
from anemoic.geo.sphere import EARTH_RADIUS_KM, latlon_to_xyz
from anemoic.plan.model import Plan
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.inference.loading import load_training
from tests.runtime.lam import TrainedRun, trained_lam, write_globe  # noqa: F401

NEAR_KM, FAR_KM = 1000.0, 2500.0  # the model reaches about 2000 km (one gnn layer over knn edges)


def _with_boundary(plan: Plan, path: Path) -> Plan:
    dataset = dataclasses.replace(plan.boundary.dataset, path=str(path))
    return dataclasses.replace(plan, boundary=dataclasses.replace(plan.boundary, dataset=dataset))


def _distance_to_boundary_km(data: AnemoicDataModule) -> np.ndarray:
    inner = data.boundary.grid.region_size
    xyz = latlon_to_xyz(np.radians(data.latitudes), np.radians(data.longitudes))
    chord, _ = cKDTree(xyz[inner:]).query(xyz[:inner])
    return 2 * np.arcsin(chord / 2) * EARTH_RADIUS_KM


@torch.no_grad()
def _forecast(module, batch: torch.Tensor, steps: int, task=None) -> torch.Tensor:
    """(steps, G_region, V_out) of the deterministic model's rollout from a raw batch of one sample."""
    task = task or module.task
    states = task.validation_rollout(module.model, module.normalise(batch), steps).predictions[0, :, 0]
    return module.on_output_grid(states)


def test_the_boundary_dataset_reaches_the_border_of_the_region_and_not_far_inside(trained_lam: TrainedRun,
                                                                                  tmp_path: Path) -> None:
    module, parts, *_ = load_training(trained_lam.run_dir)
    other = write_globe(tmp_path, seed=99, name="other.zarr")  # another global dataset: the same region store
    changed = AnemoicDataModule(_with_boundary(module.plan, other))
    inner = parts.data.boundary.grid.region_size
    batch, moved = parts.data.dataset("validate")[0][None], changed.dataset("validate")[0][None]
    assert torch.equal(batch[..., :inner, :], moved[..., :inner, :])
    assert not torch.equal(batch[..., inner:, :], moved[..., inner:, :])
    difference = (_forecast(module, batch, 1) - _forecast(module, moved, 1))[0].abs().amax(-1).numpy()
    km = _distance_to_boundary_km(parts.data)
    near, far = km < NEAR_KM, km > FAR_KM
    assert near.sum() > 20 and far.sum() > 20
    assert (difference[near] > 0).mean() > 0.9 and difference[near].max() > 1e-3
    assert (difference[far] == 0).all()


def test_the_second_step_reads_the_boundary_data_at_the_first_steps_valid_time(trained_lam: TrainedRun,
                                                                              tmp_path: Path) -> None:
    module, parts, *_ = load_training(trained_lam.run_dir)
    plan = module.plan
    dataset = parts.data.dataset("validate")
    first_valid = dataset.dates(0)[plan.task.multistep_input]  # the valid time of rollout step 1
    copy = tmp_path / "globe.zarr"
    shutil.copytree(plan.boundary.dataset.path, copy)
    import zarr

    values = zarr.open_array(str(copy / "data"), mode="r+")
    when = open_store(copy).date_index(str(first_valid))
    state = values[when]
    prognostic = [v.store_index for v in plan.boundary.variables if v.role == "prognostic"]
    state[prognostic] += 5.0  # the boundary truth of the prognostic variables at that one valid time
    values[when] = state
    changed = AnemoicDataModule(_with_boundary(plan, copy))
    batch, moved = dataset[0][None], changed.dataset("validate")[0][None]
    inner = parts.data.boundary.grid.region_size
    assert torch.equal(batch[:, plan.task.multistep_input + 1:], moved[:, plan.task.multistep_input + 1:])
    before, after = _forecast(module, batch, 2), _forecast(module, moved, 2)
    assert torch.equal(before[0], after[0])  # step 1 does not read that time
    near = _distance_to_boundary_km(parts.data) < NEAR_KM
    assert (before[1] - after[1])[near].abs().max() > 1e-3  # step 2 starts from it
    # without the forcing the boundary's data at that time never enters step 2: the model's prediction does
    unforced = dataclasses.replace(module.task, forced_from=None)
    assert torch.equal(_forecast(module, batch, 2, unforced)[1], _forecast(module, moved, 2, unforced)[1])
    assert inner == plan.dataset.grid_size
