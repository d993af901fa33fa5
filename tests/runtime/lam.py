"""A small limited-area (and stretched-grid: the same grid, nothing forced, both datasets scored) set-up for
runtime tests: a regional store (the tropical Pacific on a 5-degree grid) and a
global store (10 degrees) around it, and a hand-built plan whose model has a bounded receptive field (a gnn
processor of one layer over knn edges, short encoder and decoder edges), so "far inside" the region exists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.io import write_plan
from anemoic.plan.model import BoundaryPlan, EdgesPlan, GraphPlan, NodesPlan, Plan, ScalerPlan
from tests.factories import make_plan
from tests.runtime.training.tiny_run import TINY_DEFAULTS, TrainedRun, exec_once

PACIFIC = (30.0, 140.0, -30.0, 240.0)  # north, west, south, east
MARGIN_KM = 400.0  # above the region's 5-degree spacing: no boundary point between two region points
END = "2020-01-25T18:00"
LOCAL_GRAPH = GraphPlan(
    name="lam", cache_key="0" * 64, data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": 3}),
    encoder=EdgesPlan("cutoff", {"factor": 0.6, "max_neighbours": 64}), processor=EdgesPlan("knn", {"k": 6}),
    decoder=EdgesPlan("knn", {"k": 3}),
)
LAM_DEFAULTS: dict[str, Any] = {
    **TINY_DEFAULTS, "graph": LOCAL_GRAPH, "model.processor": "gnn", "model.encoder": "gnn", "model.decoder": "gnn",
    "model.layers": 1, "training.epochs": 1, "training.limit_batches_per_epoch": 3,
    "dataset.validate.end": "2020-01-23T18:00:00",
}


def write_region(directory: Path, *, frequency: str = "6h", name: str = "pacific.zarr", **kwargs: Any) -> Path:
    return write_synthetic_store(directory / name, grid=(36, 72), area=PACIFIC, end=END, frequency=frequency,
                                 **kwargs)


def write_globe(directory: Path, *, frequency: str = "6h", name: str = "globe.zarr", **kwargs: Any) -> Path:
    return write_synthetic_store(directory / name, grid=(18, 36), end=END, frequency=frequency, **kwargs)


def lam_plan(region: Path, globe: Path, run_dir: Path, **overrides: Any) -> Plan:
    """The test plan over ``region`` with ``globe`` around it, as the compiler writes a limited-area model's."""
    plan = make_plan(str(region), str(run_dir), **{**LAM_DEFAULTS, **overrides})
    inner, outer = open_store(region).metadata, open_store(globe).metadata
    dataset = dataclasses.replace(plan.dataset, name="pacific", grid_size=inner.grid_size,
                                  frequency_s=inner.frequency_s)
    boundary = BoundaryPlan(dataclasses.replace(plan.dataset, name="globe", path=str(globe),
                                                grid_size=outer.grid_size, frequency_s=outer.frequency_s),
                            plan.variables, margin_km=MARGIN_KM)
    return dataclasses.replace(plan, dataset=dataset, boundary=boundary,
                               task=dataclasses.replace(plan.task, output_mask="pacific"))


def stretched_plan(region: Path, globe: Path, run_dir: Path, share: float | None = 0.5, **overrides: Any) -> Plan:
    """The same cut-out grid as a stretched-grid model (``output_mask = none``): the boundary is not forced, both
    datasets are scored, the region's nodes carry ``share`` of the node weight (no dataset weights: None)."""
    plan = lam_plan(region, globe, run_dir, **overrides)
    plan = dataclasses.replace(plan, boundary=dataclasses.replace(plan.boundary, forced=False),
                               task=dataclasses.replace(plan.task, output_mask=None))
    if share is None:
        return plan
    scaler = ScalerPlan("dataset_weights", "dataset_weights", weights=(share, 1 - share),
                        params={"region": "pacific", "boundary": "globe"})
    terms = tuple(dataclasses.replace(t, scalers=(*t.scalers, "dataset_weights")) for t in plan.loss.terms)
    return dataclasses.replace(plan, loss=dataclasses.replace(plan.loss, terms=terms,
                                                              scalers=(*plan.loss.scalers, scaler)))


def write_lam_plan(directory: Path, region: Path, globe: Path, name: str = "lam.json", run: str = "run",
                   **overrides: Any) -> Path:
    path = directory / name
    write_plan(lam_plan(region, globe, directory / run, **overrides), path)
    return path


_STRETCHED: list[TrainedRun] = []


@pytest.fixture(scope="session")
def trained_stretched(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """One short real ``exec`` of the stretched-grid plan (import this fixture)."""
    if _STRETCHED:
        return _STRETCHED[0]
    directory = tmp_path_factory.mktemp("stretched")
    region, globe = write_region(directory), write_globe(directory, seed=5)
    path = directory / "stretched.json"
    write_plan(stretched_plan(region, globe, directory / "run"), path)
    return exec_once(_STRETCHED, directory, region, path)


_TRAINED: list[TrainedRun] = []


@pytest.fixture(scope="session")
def trained_lam(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """One short real ``exec`` of the limited-area plan (import this fixture): its checkpoints feed the forcing,
    predict and evaluate tests."""
    if _TRAINED:
        return _TRAINED[0]
    directory = tmp_path_factory.mktemp("lam")
    region, globe = write_region(directory), write_globe(directory, seed=5)
    return exec_once(_TRAINED, directory, region, write_lam_plan(directory, region, globe))
