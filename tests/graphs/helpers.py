"""Small recipes and grids shared by the graph tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from anemoic.plan.model import BoundaryPlan, EdgesPlan, GraphPlan, NodesPlan, Plan
from anemoic.geo.grids import octahedral_reduced_gaussian
from anemoic.graphs.nodes import NodeSet
from anemoic.geo.sphere import latlon_to_xyz


def recipe(**changes: object) -> GraphPlan:
    """Anemoi's default recipe (cut-off 0.6 encoder, multi-scale processor, knn-3 decoder), small."""
    plan = GraphPlan(
        name="test", cache_key="0" * 64,
        data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": 3}),
        encoder=EdgesPlan("cutoff", {"factor": 0.6, "max_neighbours": 64}),
        processor=EdgesPlan("multiscale", {"levels": 3}),
        decoder=EdgesPlan("knn", {"k": 3}),
    )
    return dataclasses.replace(plan, **changes)


def o_grid(n: int = 16) -> tuple[np.ndarray, np.ndarray]:
    return octahedral_reduced_gaussian(n)


def node_set(lat_deg: np.ndarray, lon_deg: np.ndarray) -> NodeSet:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return NodeSet(lat=lat, lon=lon, xyz=latlon_to_xyz(lat, lon), grid_index=np.arange(lat.size))


def random_node_set(count: int, seed: int) -> NodeSet:
    rng = np.random.default_rng(seed)
    xyz = rng.normal(size=(count, 3))
    xyz /= np.linalg.norm(xyz, axis=1, keepdims=True)
    lat_deg = np.degrees(np.arcsin(xyz[:, 2]))
    lon_deg = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
    return node_set(lat_deg, lon_deg)


def lam_stores(folder: Path) -> tuple[Path, Path]:
    """Two real stores for a limited-area model: a 5-degree box over the maritime continent (imported from a
    netCDF file as ``anemoic data import`` does) and the synthetic o16 globe around it."""
    import pandas as pd
    import xarray as xr

    from anemoic.datasets.importer import ImportOptions, import_sources
    from anemoic.datasets.synth import write_synthetic_store

    months = pd.date_range("2020-01-01", periods=4, freq="MS")
    lat, lon = np.arange(-10.0, 15.0, 5.0), np.arange(100.0, 145.0, 5.0)
    values = np.random.default_rng(0).normal(size=(len(months), len(lat), len(lon)))
    xr.Dataset({"2t": (("time", "lat", "lon"), values)}, coords={"time": months, "lat": lat, "lon": lon}
               ).to_netcdf(folder / "region.nc")
    region = import_sources([folder / "region.nc"], folder / "region.zarr", ImportOptions(monthly=True))
    globe = write_synthetic_store(folder / "globe.zarr", grid="o16", end="2020-01-02T18:00")
    return Path(region), Path(globe)


def lam_plan(region: Path, boundary: Path, run_dir: Path, margin_km: float = 500.0, **graph: object) -> Plan:
    """``tests.factories.make_plan`` over ``region`` with ``boundary`` around it (as a LAM plan is lowered)."""
    from tests.factories import make_plan

    plan = make_plan(str(region), str(run_dir))
    outer = dataclasses.replace(plan.dataset, name="globe", path=str(boundary))
    return dataclasses.replace(
        plan, dataset=dataclasses.replace(plan.dataset, name="maritime"),
        boundary=BoundaryPlan(dataset=outer, variables=plan.variables, margin_km=margin_km),
        task=dataclasses.replace(plan.task, output_mask="maritime"),
        graph=dataclasses.replace(plan.graph, **graph))
