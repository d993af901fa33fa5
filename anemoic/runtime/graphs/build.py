"""``build_graph``: a plan's graph recipe + the dataset grid -> torch-geometric ``HeteroData``.

Node types "data" and "hidden"; edge types ("data","to","hidden"), ("hidden","to","hidden"),
("hidden","to","data"), each with ``edge_index`` (sorted by destination, then source),
``edge_attr`` and, where ``anemoic.kernels`` imports, ``csc_index`` (its GraphAttentionIndex,
cached with the graph). ``g["data"]`` also carries ``area_weight`` and ``grid_index``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from anemoic.plan.model import GraphPlan
from anemoic.runtime.graphs import cache
from anemoic.runtime.graphs.arrays import EDGE_SETS, EdgeArrays, GraphArrays
from anemoic.runtime.graphs.attributes import edge_features, node_weights
from anemoic.runtime.graphs.edges import build_edges
from anemoic.runtime.graphs.nodes import NodeSet, build_nodes

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

LOGGER = logging.getLogger(__name__)


def build_graph(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                cache_dir: str | Path | None = None) -> HeteroData:
    """Build (or load from ``cache_dir``) the graph of ``graph`` on the given dataset grid."""
    arrays, _ = build_or_load(graph, latitudes_deg, longitudes_deg, cache_dir)
    return to_hetero_data(arrays)


def build_or_load(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                  cache_dir: str | Path | None = None) -> tuple[GraphArrays, Path | None]:
    """The graph's arrays and the cache file they live in (None without a cache directory)."""
    if cache_dir is None:
        return with_csc(build_arrays(graph, latitudes_deg, longitudes_deg)), None
    key = cache.cache_key(graph, cache.grid_fingerprint(latitudes_deg, longitudes_deg))
    path = cache.cache_path(cache_dir, key)
    arrays = cache.load(path, key)
    if arrays is None:
        arrays = with_csc(build_arrays(graph, latitudes_deg, longitudes_deg))
        cache.save(path, key, arrays)
        LOGGER.info("graph %s built and cached in %s", graph.name, path)
    return arrays, path


def build_arrays(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray) -> GraphArrays:
    """Build nodes, edges and attributes with numpy/scipy only."""
    started = time.perf_counter()
    nodes = {
        "data": build_nodes(graph.data, "data", latitudes_deg, longitudes_deg),
        "hidden": build_nodes(graph.hidden, "hidden", latitudes_deg, longitudes_deg),
    }
    region = graph.hidden.area if graph.hidden.area is not None else graph.data.area
    region = dict(region) if region is not None else None
    edges = {}
    for name, (src_type, dst_type) in EDGE_SETS.items():
        plan = getattr(graph, name)
        src, dst = build_edges(plan, name, nodes[src_type], nodes[dst_type], region)
        attr = edge_features(nodes[src_type], nodes[dst_type], src, dst, tuple(graph.edge_attributes))
        edges[name] = EdgeArrays(edge_index=np.stack([src, dst]), edge_attr=attr)
    arrays = GraphArrays(
        data_x=_coordinates(nodes["data"]),
        hidden_x=_coordinates(nodes["hidden"]),
        data_area_weight=node_weights(nodes["data"], graph.node_weights, graph.node_weights_norm),
        data_grid_index=nodes["data"].grid_index,
        edges=edges,
    )
    LOGGER.info("graph %s built in %.1f s", graph.name, time.perf_counter() - started)
    return arrays


def _coordinates(nodes: NodeSet) -> np.ndarray:
    return np.stack([nodes.lat, nodes.lon], axis=1).astype(np.float32)


def with_csc(arrays: GraphArrays) -> GraphArrays:
    """Add the attention kernel's CSC index arrays to every edge set, if ``anemoic.kernels`` imports."""
    try:
        import torch

        from anemoic.kernels import build_csc_index
    except ImportError:
        return arrays
    edges = {}
    for name, (src_type, dst_type) in EDGE_SETS.items():
        current = arrays.edges[name]
        index = build_csc_index(torch.from_numpy(current.edge_index), arrays.num_nodes(src_type),
                                arrays.num_nodes(dst_type))
        csc = {field.name: _to_numpy(getattr(index, field.name)) for field in dataclasses.fields(index)}
        edges[name] = dataclasses.replace(current, csc=csc)
    return dataclasses.replace(arrays, edges=edges)


def _to_numpy(value: Any) -> np.ndarray:
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def to_hetero_data(arrays: GraphArrays) -> HeteroData:
    """Wrap the arrays (sharing memory) in a torch-geometric HeteroData."""
    import torch
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
        index = _csc_index(edges.csc)
        if index is not None:
            store.csc_index = index
    return graph


def _csc_index(csc: dict[str, np.ndarray]) -> Any | None:
    """Rebuild the kernel's index object from its cached arrays (None if absent or incompatible)."""
    if not csc:
        return None
    try:
        import torch

        from anemoic.kernels import GraphAttentionIndex
    except ImportError:
        return None
    values = {}
    for field in dataclasses.fields(GraphAttentionIndex):
        if field.name not in csc:
            return None
        array = csc[field.name]
        values[field.name] = int(array) if array.ndim == 0 else torch.from_numpy(array)
    return GraphAttentionIndex(**values)
