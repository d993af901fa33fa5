"""The graph as the model sees it: the torch-free ``GraphArrays`` wrapped in a torch-geometric ``HeteroData``.

Node types "data" and "hidden"; edge types ("data","to","hidden"), ("hidden","to","hidden"),
("hidden","to","data"), each with ``edge_index`` (sorted by destination, then source), ``edge_attr``
and ``csc_index``, the attention kernel's index (built here, next to the model that uses it, in well
under a second even for n320-sized graphs).  ``g["data"]`` also carries ``area_weight`` and ``grid_index``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from anemoic.graphs.arrays import EDGE_SETS, GraphArrays
from anemoic.graphs.build import build_or_load
from anemoic.kernels import build_csc_index
from anemoic.plan.model import GraphPlan

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData


def build_graph(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                cache_dir: str | Path | None = None, region_size: int | None = None) -> HeteroData:
    """Build (or load from ``cache_dir``) the graph of ``graph`` on the given dataset grid, as tensors;
    ``region_size``: on a limited-area model's cut-out grid, how many of its first points are the region's."""
    arrays, _ = build_or_load(graph, latitudes_deg, longitudes_deg, cache_dir, region_size)
    return to_hetero_data(arrays)


def build_downscale_graph(graph: GraphPlan, source: Any, target: Any) -> HeteroData:
    """A spatial downscaler's graph from the ``source`` store's grid to the ``target`` store's
    (``anemoic.graphs.downscale``)."""
    from anemoic.graphs.downscale import downscale_arrays

    return to_hetero_data(downscale_arrays(graph, source.latitudes, source.longitudes, target.latitudes,
                                           target.longitudes))


def to_hetero_data(arrays: GraphArrays) -> HeteroData:
    """Wrap the arrays (sharing memory) in a HeteroData and index every edge set for the attention kernel."""
    from torch_geometric.data import HeteroData

    graph = HeteroData()
    graph["data"].x = torch.from_numpy(arrays.data_x)
    graph["data"].area_weight = torch.from_numpy(arrays.data_area_weight)
    graph["data"].grid_index = torch.from_numpy(arrays.data_grid_index)
    graph["hidden"].x = torch.from_numpy(arrays.hidden_x)
    for name, (src_type, dst_type) in EDGE_SETS.items():
        store = graph[src_type, "to", dst_type]
        edges = arrays.edges[name]
        store.edge_index = torch.from_numpy(edges.edge_index)
        store.edge_attr = torch.from_numpy(edges.edge_attr)
        store.csc_index = build_csc_index(store.edge_index, arrays.num_nodes(src_type), arrays.num_nodes(dst_type))
    return graph
