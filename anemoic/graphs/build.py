"""A plan's graph recipe + the dataset grid -> plain numpy arrays (``GraphArrays``), cached on disk.

torch-free, so ``anemoic graph describe|plot`` and the compiler's estimates never load torch; the
runtime wraps the arrays into tensors (``anemoic.runtime.models.graph_tensors``).  Edge sets
"encoder" (data -> hidden), "processor" (hidden -> hidden) and "decoder" (hidden -> data), each
sorted by destination, then source.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from anemoic.plan.model import GraphPlan
from anemoic.graphs import cache
from anemoic.graphs.arrays import EDGE_SETS, EdgeArrays, GraphArrays
from anemoic.graphs.attributes import edge_features, node_weights
from anemoic.graphs.edges import build_edges
from anemoic.graphs.nodes import NodeSet, build_nodes

LOGGER = logging.getLogger(__name__)


def build_or_load(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                  cache_dir: str | Path | None = None,
                  region_size: int | None = None) -> tuple[GraphArrays, Path | None]:
    """The graph's arrays and the cache file they live in (None without a cache directory).

    ``region_size``: on a limited-area model's cut-out grid (``anemoic.graphs.cutout``), how many of its first
    points are the region's; the meshes' ``mask`` keeps nodes near them, and describe/plot name them."""
    if cache_dir is None:
        return build_arrays(graph, latitudes_deg, longitudes_deg, region_size), None
    fingerprint = cache.grid_fingerprint(latitudes_deg, longitudes_deg)
    if region_size is not None:  # the same points split differently between region and boundary differ
        fingerprint += f":region={region_size}"
    key = cache.cache_key(graph, fingerprint)
    path = cache.cache_path(cache_dir, key)
    arrays = cache.load(path, key)
    if arrays is None:
        arrays = build_arrays(graph, latitudes_deg, longitudes_deg, region_size)
        cache.save(path, key, arrays)
        LOGGER.info("graph %s built and cached in %s", graph.name, path)
    return arrays, path


def build_arrays(graph: GraphPlan, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                 region_size: int | None = None) -> GraphArrays:
    """Build nodes, edges and attributes with numpy/scipy only."""
    started = time.perf_counter()
    nodes = {
        "data": build_nodes(graph.data, "data", latitudes_deg, longitudes_deg, region_size),
        "hidden": build_nodes(graph.hidden, "hidden", latitudes_deg, longitudes_deg, region_size),
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
