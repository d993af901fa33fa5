"""Node and edge counts of a graph recipe without building it (pure arithmetic, no numpy/torch).

Used by the compiler's resource estimates. Exact for the mesh node sets (icosahedral
10*4^n + 2, HEALPix 12*4^l, lat/lon rows*columns), for k-nearest-neighbour edges (k per
searching node) and for multi-scale icosahedral edges (60*4^r directed edges at level r);
cut-off edges, limited areas, masks and stretched meshes are estimated from node densities.  A mesh kept
near a limited-area model's region (``mask``) is estimated from the region's box (``region_area``, widened by
the margin), or counted whole when the box is not given: an upper bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from anemoic.graphs.errors import GraphError
from anemoic.graphs.params import number, optional_number, whole
from anemoic.plan.kinds import EdgesKind, NodesKind
from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan

EARTH_RADIUS_KM = 6371.0
# Largest nearest-neighbour chord of the icosahedral mesh, per refinement level (measured with
# anemoic.graphs.edges.reference_distance; tests/graphs/test_sizes.py re-measures it).
ICOSAHEDRAL_REFERENCE = (1.0514622242382672, 0.5465330578253433, 0.28547300318202934, 0.1584594610208545,
                         0.08177584073947752, 0.04123185687424308, 0.02065980886947325, 0.01033541800228608,
                         0.005168399094182572, 0.002584285836803098)
_SPACING_CONSTANT = 4.184  # reference distance ~ this / sqrt(nodes on the whole sphere)


class _Count:
    """A node or edge count, whether it is exact, and the share of the sphere the nodes cover."""

    def __init__(self, value: float, exact: bool, fraction: float = 1.0, reference: float | None = None):
        self.value, self.exact, self.fraction, self.reference = value, exact, fraction, reference

    @property
    def global_equivalent(self) -> float:
        return self.value / max(self.fraction, 1e-12)


def estimate_sizes(graph: GraphPlan, grid_size: int, region_area: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"nodes": {"data", "hidden"}, "edges": {"encoder", "processor", "decoder"}, "exact": bool}``.

    ``region_area``: the north/west/south/east box of a cut-out grid's region, for meshes with a ``mask``."""
    data = _nodes(graph.data, "data", grid_size, region_area)
    hidden = _nodes(graph.hidden, "hidden", grid_size, region_area)
    sets = {"encoder": (data, hidden), "processor": (hidden, hidden), "decoder": (hidden, data)}
    edges = {name: _edges(getattr(graph, name), name, src, dst, graph.hidden) for name, (src, dst) in sets.items()}
    counts = [data, hidden, *edges.values()]
    return {
        "nodes": {"data": round(data.value), "hidden": round(hidden.value)},
        "edges": {name: round(count.value) for name, count in edges.items()},
        "exact": all(count.exact for count in counts),
    }


def icosahedral_nodes(refinement: int) -> int:
    return 10 * 4**refinement + 2


def area_fraction(area: dict[str, Any], margin_km: float = 0.0) -> float:
    """Share of the sphere's surface inside a north/west/south/east box widened by ``margin_km``."""
    try:
        north, west, south, east = (float(area[key]) for key in ("north", "west", "south", "east"))
    except (KeyError, TypeError, ValueError):
        raise GraphError(f"area needs numeric north, west, south and east, got {dict(area)!r}") from None
    margin_deg = math.degrees(margin_km / EARTH_RADIUS_KM)
    north, south = min(north + margin_deg, 90.0), max(south - margin_deg, -90.0)
    width = 360.0 if east - west >= 360.0 else (east - west) % 360.0
    width = min(width + 2.0 * margin_deg / max(math.cos(math.radians((north + south) / 2.0)), 1e-6), 360.0)
    band = max(math.sin(math.radians(north)) - math.sin(math.radians(south)), 0.0) / 2.0
    return band * width / 360.0


def _nodes(plan: NodesPlan, role: str, grid_size: int, region_area: dict[str, Any] | None = None) -> _Count:
    where = f"{role} nodes"
    if plan.kind not in NODE_COUNTS:
        raise GraphError(f"{where}: unknown kind {plan.kind!r}")
    params = dict(plan.params)
    margin = optional_number(params, "margin_km", where, minimum=0.0) or 0.0
    masked = params.pop("mask", None) is not None
    if masked and plan.kind == "stretched":  # refined near the region instead of inside an area
        plan = NodesPlan(plan.kind, params, region_area or {"north": 90, "west": 0, "south": -90, "east": 360})
    count = NODE_COUNTS[plan.kind](params, plan, where, grid_size, margin)
    if masked and plan.kind != "stretched":
        fraction = area_fraction(dict(region_area), margin) if region_area is not None else 1.0
        count = _Count(count.value * fraction, exact=False, fraction=fraction, reference=count.reference)
    if plan.area is None or plan.kind == "stretched":  # a stretched mesh's count already knows its area
        return count
    fraction = area_fraction(dict(plan.area), margin)
    return _Count(count.value * fraction, exact=False, fraction=count.fraction * fraction, reference=count.reference)


def _dataset_count(params: dict[str, Any], plan: NodesPlan, where: str, grid_size: int, margin: float) -> _Count:
    return _Count(float(grid_size), exact=True)


def _icosahedral_count(params: dict[str, Any], plan: NodesPlan, where: str, grid_size: int, margin: float) -> _Count:
    level = whole(params, "refinement", where, minimum=0, maximum=10)
    reference = ICOSAHEDRAL_REFERENCE[level] if level < len(ICOSAHEDRAL_REFERENCE) else None
    return _Count(float(icosahedral_nodes(level)), exact=True, reference=reference)


def _healpix_count(params: dict[str, Any], plan: NodesPlan, where: str, grid_size: int, margin: float) -> _Count:
    return _Count(float(12 * 4 ** whole(params, "level", where, minimum=0, maximum=11)), exact=True)


def _latlon_count(params: dict[str, Any], plan: NodesPlan, where: str, grid_size: int, margin: float) -> _Count:
    resolution = number(params, "resolution_deg", where, minimum=1e-3)
    return _Count(float(round(180.0 / resolution) * round(360.0 / resolution)), exact=True)


def _stretched_count(params: dict[str, Any], plan: NodesPlan, where: str, grid_size: int, margin: float) -> _Count:
    if plan.area is None:
        raise GraphError(f"{where}: stretched nodes need an area (north, west, south, east)")
    coarse = whole(params, "global_refinement", where, minimum=0, maximum=10)
    fine = whole(params, "area_refinement", where, minimum=coarse, maximum=10)
    extra = icosahedral_nodes(fine) - icosahedral_nodes(coarse)
    return _Count(icosahedral_nodes(coarse) + extra * area_fraction(dict(plan.area), margin), exact=False)


def _edges(plan: EdgesPlan, role: str, src: _Count, dst: _Count, hidden: NodesPlan) -> _Count:
    if plan.kind not in EDGE_COUNTS:
        raise GraphError(f"{role}: unknown edge kind {plan.kind!r}")
    return EDGE_COUNTS[plan.kind](dict(plan.params), role, plan, src, dst, hidden)


def _searching(plan: EdgesPlan, src: _Count, dst: _Count) -> tuple[_Count, _Count]:
    """(the side whose nodes search, the side searched): the destination searches unless reversed."""
    return (src, dst) if plan.reversed else (dst, src)


def _masked(plan: EdgesPlan) -> bool:
    return plan.source_mask is not None or plan.target_mask is not None


def _knn_count(params: dict[str, Any], role: str, plan: EdgesPlan, src: _Count, dst: _Count,
               hidden: NodesPlan) -> _Count:
    searching, _ = _searching(plan, src, dst)
    k = whole(params, "k", f"{role} knn", minimum=1)
    return _Count(k * searching.value, exact=searching.exact and not _masked(plan))


def _cutoff_count(params: dict[str, Any], role: str, plan: EdgesPlan, src: _Count, dst: _Count,
                  hidden: NodesPlan) -> _Count:
    return _Count(_cutoff_edges(params, role, *_searching(plan, src, dst)), exact=False)


def _multiscale_count(params: dict[str, Any], role: str, plan: EdgesPlan, src: _Count, dst: _Count,
                      hidden: NodesPlan) -> _Count:
    return _multiscale_edges(params, role, hidden, src, exact=src.exact and not _masked(plan))


def _cutoff_edges(params: dict[str, Any], role: str, searching: _Count, searched: _Count) -> float:
    where = f"{role} cutoff"
    factor = optional_number(params, "factor", where, minimum=0.0)
    radius_km = optional_number(params, "radius_km", where, minimum=0.0)
    cap = whole(params, "max_neighbours", where, minimum=1) if "max_neighbours" in params else 64
    if factor is not None:
        reference = searching.reference
        if reference is None:
            reference = _SPACING_CONSTANT / math.sqrt(max(searching.global_equivalent, 1.0))
        angle = 2.0 * math.asin(min(factor * reference / 2.0, 1.0))
    elif radius_km is not None:
        angle = radius_km / EARTH_RADIUS_KM
    else:
        raise GraphError(f"{where}: give exactly one of factor or radius_km")
    per_node = searched.global_equivalent * (1.0 - math.cos(min(angle, math.pi))) / 2.0
    return searching.value * min(float(cap), per_node, searched.value)


def _multiscale_edges(params: dict[str, Any], role: str, hidden: NodesPlan, nodes: _Count, exact: bool) -> _Count:
    where = f"{role} multiscale"
    hidden_params = dict(hidden.params)
    if hidden.kind == "icosahedral":
        finest = whole(hidden_params, "refinement", "hidden nodes", minimum=0, maximum=10)
    elif hidden.kind == "stretched":
        finest = whole(hidden_params, "area_refinement", "hidden nodes", minimum=0, maximum=10)
        exact = False
    else:
        raise GraphError(f"{where}: multiscale edges need icosahedral or stretched hidden nodes")
    available = max(finest, 1)
    levels = whole(params, "levels", where, minimum=1, maximum=available) if "levels" in params else available
    hops = whole(params, "x_hops", where, minimum=1) if "x_hops" in params else 1
    chosen = range(max(finest - levels + 1, 1), finest + 1) if finest else range(0, 1)
    if hops == 1:
        total = sum(60 * 4**level for level in chosen)
    else:  # nodes within h hops of a triangular mesh: 3h(h+1); overlaps between levels ignored
        total, exact = sum(icosahedral_nodes(level) * 3 * hops * (hops + 1) for level in chosen), False
    share = nodes.value / icosahedral_nodes(finest)
    return _Count(total * share, exact=exact and share == 1.0)


NODE_COUNTS: dict[NodesKind, Callable[[dict[str, Any], NodesPlan, str, int, float], _Count]] = {
    "dataset": _dataset_count,
    "icosahedral": _icosahedral_count,
    "healpix": _healpix_count,
    "latlon": _latlon_count,
    "stretched": _stretched_count,
}
"""One entry per ``kinds.NODES_KINDS`` (tests/graphs/test_vocabulary.py)."""
EDGE_COUNTS: dict[EdgesKind, Callable[[dict[str, Any], str, EdgesPlan, _Count, _Count, NodesPlan], _Count]] = {
    "knn": _knn_count,
    "cutoff": _cutoff_count,
    "multiscale": _multiscale_count,
}
"""One entry per ``kinds.EDGES_KINDS``."""
