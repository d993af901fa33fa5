"""Node sets from a ``NodesPlan``: the dataset grid, icosahedral, HEALPix, regular lat/lon, stretched.

Parameter names (the language lowers the ``.anm`` graph recipe into them; docs/graphs.md lists them):
``dataset {}``, ``icosahedral {refinement}``, ``healpix {level}``, ``latlon {resolution_deg}``,
``stretched {global_refinement, area_refinement, margin_km?}``; any kind may carry an ``area``
(limited area: only nodes inside the box are kept) and ``margin_km`` widens it.  On a cut-out grid (a
limited-area model: the region's ``region_size`` points first) the meshes also take ``mask`` (the region
dataset's name, anemoi's mask-limited ``LimitedAreaTriNodes``): only mesh nodes within ``margin_km`` of a
region point are kept, plus each region point's nearest mesh node so that none is left without one; a
stretched mesh refines there instead of inside an ``area``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from anemoic.geo import grids, icosahedron
from anemoic.geo.sphere import EARTH_RADIUS_KM, arc_to_chord, inside_area, latlon_to_xyz
from anemoic.graphs.errors import GraphError
from anemoic.graphs.params import check_area, known, number, optional_number, whole
from anemoic.plan.kinds import NodesKind
from anemoic.plan.model import NodesPlan


@dataclass(frozen=True)
class NodeSet:
    """Nodes on the unit sphere; ``mesh_edges`` only for icosahedral/stretched sets (multi-scale edges)."""

    lat: np.ndarray  # (N,) radians, float64
    lon: np.ndarray  # (N,) radians, float64
    xyz: np.ndarray  # (N, 3) unit vectors
    grid_index: np.ndarray  # (N,) int64: position of each node in the point list it was cut from
    mesh_edges: tuple[np.ndarray, ...] | None = None  # per refinement level r: (E_r, 2) node pairs

    def __len__(self) -> int:
        return int(self.lat.shape[0])


def build_nodes(plan: NodesPlan, role: str, latitudes_deg: np.ndarray, longitudes_deg: np.ndarray,
                region_size: int | None = None) -> NodeSet:
    """Build the ``role`` ("data" or "hidden") node set of the recipe; ``region_size``: on a cut-out grid, how
    many of its first points are the region's (what a ``mask`` keeps the mesh near)."""
    if plan.kind not in BUILDERS:
        raise GraphError(f"{role} nodes: unknown kind {plan.kind!r}; choose {', '.join(BUILDERS)}")
    names, build = BUILDERS[plan.kind]
    params = dict(plan.params)
    where = f"{role} nodes"
    known(params, names + ("margin_km",) + (("mask",) if plan.kind != "dataset" else ()), f"{where} ({plan.kind})")
    margin_km = optional_number(params, "margin_km", where, minimum=0.0) or 0.0
    near = None
    if "mask" in params:  # the builders read it as params["near"] (the stretched mesh refines there)
        near = _Near(_region_points(params["mask"], where, latitudes_deg, longitudes_deg, region_size), margin_km)
        params["near"] = near
    nodes = build(params, plan, where, latitudes_deg, longitudes_deg)
    if plan.area is not None and plan.kind != "stretched":
        nodes = _subset(nodes, inside_area(nodes.lat, nodes.lon, check_area(dict(plan.area)), margin_km))
    if near is not None and plan.kind != "stretched":
        nodes = _subset(nodes, near.keep(nodes.xyz))
    if len(nodes) == 0:
        raise GraphError(f"{role} nodes: the {plan.kind} node set is empty (is the area outside the grid?)")
    return nodes


@dataclass(frozen=True)
class _Near:
    """The region's points (unit vectors) and the distance from them within which a mask keeps mesh nodes."""

    region: np.ndarray
    margin_km: float

    def keep(self, xyz: np.ndarray) -> np.ndarray:
        """Nodes within the margin of a region point, and each region point's nearest node."""
        if len(xyz) == 0:
            return np.zeros(0, dtype=bool)
        chord, _ = cKDTree(self.region).query(xyz, k=1)
        keep = chord <= arc_to_chord(self.margin_km / EARTH_RADIUS_KM) + 1e-9
        keep[cKDTree(xyz).query(self.region, k=1)[1]] = True
        return keep


def _region_points(mask: object, where: str, lat_deg: np.ndarray, lon_deg: np.ndarray,
                   region_size: int | None) -> np.ndarray:
    if not isinstance(mask, str) or not mask:
        raise GraphError(f"{where}: mask must name the region's dataset, got {mask!r}")
    if region_size is None:
        raise GraphError(f"{where}: mask = {mask} needs a cut-out grid (a region and a boundary dataset)")
    if not 0 < region_size <= len(lat_deg):
        raise GraphError(f"{where}: the region has {region_size} points, the grid {len(lat_deg)}")
    lat = np.radians(np.asarray(lat_deg[:region_size], np.float64))
    return latlon_to_xyz(lat, np.radians(np.asarray(lon_deg[:region_size], np.float64)))


def _dataset(params: dict[str, Any], plan: NodesPlan, where: str, lat_deg: np.ndarray, lon_deg: np.ndarray) -> NodeSet:
    return _from_degrees(np.asarray(lat_deg, np.float64), np.asarray(lon_deg, np.float64))


def _icosahedral(params: dict[str, Any], plan: NodesPlan, where: str, *grid: np.ndarray) -> NodeSet:
    return _from_mesh(icosahedron.refine(whole(params, "refinement", where, minimum=0, maximum=10)), keep=None)


def _healpix(params: dict[str, Any], plan: NodesPlan, where: str, *grid: np.ndarray) -> NodeSet:
    return _from_degrees(*grids.healpix_centres(whole(params, "level", where, 0, 11)))


def _latlon(params: dict[str, Any], plan: NodesPlan, where: str, *grid: np.ndarray) -> NodeSet:
    resolution = number(params, "resolution_deg", where, minimum=1e-3)
    try:
        return _from_degrees(*grids.regular_latlon(resolution))
    except ValueError as exc:
        raise GraphError(f"{where}: {exc}") from None


def _stretched(params: dict[str, Any], plan: NodesPlan, where: str, *grid: np.ndarray) -> NodeSet:
    """Fine refinement inside the area (plus margin) or near the masked region, the coarse global refinement
    everywhere else."""
    near: _Near | None = params.get("near")
    if (plan.area is None) == (near is None):
        raise GraphError(f"{where}: stretched nodes need an area (north, west, south, east) or a mask, not "
                         f"{'both' if near is not None else 'neither'}")
    margin_km = optional_number(params, "margin_km", where, minimum=0.0) or 0.0
    coarse = whole(params, "global_refinement", where, minimum=0, maximum=10)
    fine = whole(params, "area_refinement", where, minimum=coarse, maximum=10)
    mesh = icosahedron.refine(fine)
    lat = np.arcsin(np.clip(mesh.xyz[:, 2], -1.0, 1.0))
    lon = np.arctan2(mesh.xyz[:, 1], mesh.xyz[:, 0])
    if near is not None:
        keep = near.keep(mesh.xyz)
    else:
        keep = inside_area(lat, lon, check_area(dict(plan.area)), margin_km)
    keep[: icosahedron.num_nodes(coarse)] = True
    return _from_mesh(mesh, keep)


NodeBuilder = Callable[[dict[str, Any], NodesPlan, str, np.ndarray, np.ndarray], NodeSet]
BUILDERS: dict[NodesKind, tuple[tuple[str, ...], NodeBuilder]] = {  # kind -> (parameters, builder)
    "dataset": ((), _dataset),
    "icosahedral": (("refinement",), _icosahedral),
    "healpix": (("level",), _healpix),
    "latlon": (("resolution_deg",), _latlon),
    "stretched": (("global_refinement", "area_refinement"), _stretched),
}
"""One entry per ``kinds.NODES_KINDS`` (tests/graphs/test_vocabulary.py)."""


def _from_degrees(lat_deg: np.ndarray, lon_deg: np.ndarray) -> NodeSet:
    if lat_deg.shape != lon_deg.shape or lat_deg.ndim != 1:
        raise GraphError(f"grid latitudes {lat_deg.shape} and longitudes {lon_deg.shape} must be 1-D and equal")
    if not (np.isfinite(lat_deg).all() and np.isfinite(lon_deg).all()):
        raise GraphError("grid latitudes/longitudes contain NaN or infinite values")
    if lat_deg.size and (lat_deg.min() < -90.0 or lat_deg.max() > 90.0):
        raise GraphError(f"grid latitudes must lie in [-90, 90], found [{lat_deg.min():g}, {lat_deg.max():g}]")
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return NodeSet(lat=lat, lon=lon, xyz=latlon_to_xyz(lat, lon), grid_index=np.arange(lat.size, dtype=np.int64))


def _from_mesh(mesh: icosahedron.IcosahedralMesh, keep: np.ndarray | None) -> NodeSet:
    xyz = mesh.xyz
    lat = np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0))
    lon = np.arctan2(xyz[:, 1], xyz[:, 0])
    nodes = NodeSet(lat=lat, lon=lon, xyz=xyz, grid_index=np.arange(len(xyz), dtype=np.int64),
                    mesh_edges=mesh.level_edges)
    return nodes if keep is None else _subset(nodes, keep)


def _subset(nodes: NodeSet, keep: np.ndarray) -> NodeSet:
    """Keep the masked nodes in their order; mesh edges keep only pairs whose both ends survive."""
    new_id = np.full(len(nodes), -1, dtype=np.int64)
    new_id[keep] = np.arange(int(keep.sum()))
    mesh_edges = None
    if nodes.mesh_edges is not None:
        mesh_edges = tuple(
            new_id[edges][(new_id[edges] >= 0).all(axis=1)] for edges in nodes.mesh_edges
        )
    return NodeSet(lat=nodes.lat[keep], lon=nodes.lon[keep], xyz=nodes.xyz[keep],
                   grid_index=nodes.grid_index[keep], mesh_edges=mesh_edges)
