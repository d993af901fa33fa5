"""Small recipes and grids shared by the graph tests."""

from __future__ import annotations

import dataclasses

import numpy as np

from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan
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
