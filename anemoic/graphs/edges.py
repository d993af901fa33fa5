"""Edge sets from an ``EdgesPlan``: k nearest neighbours, cut-off radius, multi-scale icosahedral.

Parameters (docs/graphs.md): ``knn {k}``, ``cutoff {factor | radius_km, max_neighbours=64}``,
``multiscale {levels?, x_hops=1}``; ``reversed`` swaps which side searches; ``source_mask`` /
``target_mask`` ("area" | "outside_area") restrict the nodes that may take part. Searches run on
unit-sphere xyz with scipy's cKDTree; results are (source, destination) int64 arrays sorted by
destination, then source, so that every build of the same recipe gives the same edge order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix, identity
from scipy.spatial import cKDTree

from anemoic.geo.sphere import EARTH_RADIUS_KM, arc_to_chord, inside_area
from anemoic.graphs.errors import GraphError
from anemoic.graphs.nodes import NodeSet
from anemoic.graphs.params import check_area, known, optional_number, whole
from anemoic.plan.kinds import EDGE_MASKS, EdgesKind
from anemoic.plan.model import EdgesPlan

MASKS = EDGE_MASKS
_QUERY_BUDGET = 4_000_000  # neighbour slots per KD-tree query chunk: bounds memory on big grids


def build_edges(plan: EdgesPlan, role: str, source: NodeSet, target: NodeSet,
                region: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """Edges ``source -> target`` of one edge set, sorted by (destination, source)."""
    src_ids = _masked_ids(plan.source_mask, source, region, f"{role} source_mask")
    dst_ids = _masked_ids(plan.target_mask, target, region, f"{role} target_mask")
    if plan.kind not in BUILDERS:
        raise GraphError(f"{role}: unknown edge kind {plan.kind!r}; choose knn, cutoff or multiscale")
    names, build = BUILDERS[plan.kind]
    params = dict(plan.params)
    known(params, names, f"{role} {plan.kind}")
    src, dst = build(params, role, plan.reversed, source, target, src_ids, dst_ids)
    return sort_by_destination(src, dst, len(source))


def sort_by_destination(src: np.ndarray, dst: np.ndarray, num_src: int) -> tuple[np.ndarray, np.ndarray]:
    """Order edges by destination, ties by source (CSC-ready and deterministic)."""
    order = np.argsort(dst.astype(np.int64) * num_src + src, kind="stable")
    return src[order].astype(np.int64), dst[order].astype(np.int64)


def reference_distance(xyz: np.ndarray) -> float:
    """Largest distance (chord) from a node to its nearest other node: Anemoi's grid reference distance."""
    if len(xyz) < 2:
        raise GraphError("a cut-off factor needs at least two target nodes to measure the grid spacing")
    distances, _ = cKDTree(xyz).query(xyz, k=2, workers=-1)
    positive = distances[distances > 0]
    return float(positive.max()) if positive.size else 0.0


def _masked_ids(mask_name: str | None, nodes: NodeSet, region: dict | None, where: str) -> np.ndarray:
    if mask_name is None:
        return np.arange(len(nodes), dtype=np.int64)
    if mask_name not in MASKS:
        raise GraphError(f"{where}: unknown mask {mask_name!r}; choose {' or '.join(MASKS)}")
    if region is None:
        raise GraphError(f"{where}: mask {mask_name!r} needs an area on the hidden or data nodes")
    inside = inside_area(nodes.lat, nodes.lon, check_area(region))
    ids = np.flatnonzero(inside if mask_name == "area" else ~inside).astype(np.int64)
    if ids.size == 0:
        raise GraphError(f"{where}: mask {mask_name!r} leaves no nodes")
    return ids


def _nearest(tree_xyz: np.ndarray, query_xyz: np.ndarray, k: int,
             radius: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """(query index, tree index) of up to k nearest tree points of every query point within radius."""
    tree = cKDTree(tree_xyz)
    chunk = max(1, _QUERY_BUDGET // k)
    queries, found = [], []
    for start in range(0, len(query_xyz), chunk):
        block = query_xyz[start : start + chunk]
        _, index = tree.query(block, k=k, distance_upper_bound=radius, workers=-1)
        index = index.reshape(len(block), k)
        rows, cols = np.nonzero(index < len(tree_xyz))
        queries.append(rows + start)
        found.append(index[rows, cols])
    if not queries:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(queries).astype(np.int64), np.concatenate(found).astype(np.int64)


def _knn(params: dict, role: str, src_xyz: np.ndarray, dst_xyz: np.ndarray,
         reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    k = whole(params, "k", f"{role} knn", minimum=1)
    searched = dst_xyz if reverse else src_xyz
    if k > len(searched):
        side = "target" if reverse else "source"
        raise GraphError(f"{role} knn: k={k} but there are only {len(searched)} {side} nodes")
    if reverse:
        src, dst = _nearest(dst_xyz, src_xyz, k)
        return src, dst
    dst, src = _nearest(src_xyz, dst_xyz, k)
    return src, dst


def _cutoff(params: dict, role: str, src_xyz: np.ndarray, dst_xyz: np.ndarray,
            reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    where = f"{role} cutoff"
    factor = optional_number(params, "factor", where, minimum=0.0)
    radius_km = optional_number(params, "radius_km", where, minimum=0.0)
    max_neighbours = whole(params, "max_neighbours", where, minimum=1) if "max_neighbours" in params else 64
    if (factor is None) == (radius_km is None):
        raise GraphError(f"{where}: give exactly one of factor (x the grid reference distance) or radius_km")
    query_xyz, tree_xyz = (src_xyz, dst_xyz) if reverse else (dst_xyz, src_xyz)
    if factor is not None:
        radius = factor * reference_distance(query_xyz)
    else:
        radius = float(arc_to_chord(radius_km / EARTH_RADIUS_KM))
    k = min(max_neighbours, len(tree_xyz))
    queried, found = _nearest(tree_xyz, query_xyz, k, radius)
    return (queried, found) if reverse else (found, queried)


def _multiscale(params: dict, role: str, nodes: NodeSet, src_ids: np.ndarray,
                dst_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if nodes.mesh_edges is None:
        raise GraphError(f"{role}: multiscale edges need icosahedral or stretched hidden nodes")
    finest = len(nodes.mesh_edges) - 1
    available = max(finest, 1)
    levels = whole(params, "levels", f"{role} multiscale", minimum=1, maximum=available) \
        if "levels" in params else available
    hops = whole(params, "x_hops", f"{role} multiscale", minimum=1) if "x_hops" in params else 1
    chosen = range(max(finest - levels + 1, 1), finest + 1) if finest else range(0, 1)
    n = len(nodes)
    keys = []
    for level in chosen:
        pairs = nodes.mesh_edges[level]
        if hops > 1:
            pairs = _within_hops(pairs, n, hops)
        both = np.concatenate([pairs, pairs[:, ::-1]])
        keys.append(both[:, 1] * n + both[:, 0])
    key = np.unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
    src, dst = key % n, key // n
    allowed_src = np.zeros(n, bool)
    allowed_src[src_ids] = True
    allowed_dst = np.zeros(n, bool)
    allowed_dst[dst_ids] = True
    keep = allowed_src[src] & allowed_dst[dst]
    return src[keep], dst[keep]


def _within_hops(pairs: np.ndarray, n: int, hops: int) -> np.ndarray:
    """Undirected pairs (i < j) of nodes at most ``hops`` mesh edges apart."""
    ones = np.ones(len(pairs), dtype=np.int8)
    adjacency = coo_matrix((ones, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
    adjacency = ((adjacency + adjacency.T + identity(n, dtype=np.int8, format="csr")) > 0).astype(np.int8)
    reach = adjacency
    for _ in range(hops - 1):
        reach = ((reach @ adjacency) > 0).astype(np.int8)
    reach = reach.tocoo()
    upper = reach.row < reach.col
    return np.stack([reach.row[upper], reach.col[upper]], axis=1).astype(np.int64)


EdgeBuilder = Callable[[dict[str, Any], str, bool, NodeSet, NodeSet, np.ndarray, np.ndarray],
                       tuple[np.ndarray, np.ndarray]]


def _searched(search: Callable[..., tuple[np.ndarray, np.ndarray]]) -> EdgeBuilder:
    """A search between the masked nodes' coordinates, its results mapped back to node ids."""
    def build(params: dict[str, Any], role: str, reverse: bool, source: NodeSet, target: NodeSet,
              src_ids: np.ndarray, dst_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        src, dst = search(params, role, source.xyz[src_ids], target.xyz[dst_ids], reverse)
        return src_ids[src], dst_ids[dst]
    return build


def _mesh(params: dict[str, Any], role: str, reverse: bool, source: NodeSet, target: NodeSet,
          src_ids: np.ndarray, dst_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if source is not target:
        raise GraphError(f"{role}: multiscale edges connect the hidden mesh to itself (processor only)")
    return _multiscale(params, role, source, src_ids, dst_ids)


BUILDERS: dict[EdgesKind, tuple[tuple[str, ...], EdgeBuilder]] = {  # kind -> (parameters, builder)
    "knn": (("k",), _searched(_knn)),
    "cutoff": (("factor", "radius_km", "max_neighbours"), _searched(_cutoff)),
    "multiscale": (("levels", "x_hops"), _mesh),
}
"""One entry per ``kinds.EDGES_KINDS`` (tests/graphs/test_vocabulary.py)."""
