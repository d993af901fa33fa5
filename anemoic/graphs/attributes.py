"""Node weights and edge features.

Node weights: ``spherical_area`` (spherical Voronoi cell areas; they sum to 4 pi on a global grid),
``cos_latitude`` or ``uniform``, normalised ``unit_sum`` | ``unit_max`` | ``l1`` | ``l2`` | ``none``.
Edge features: ``edge_length`` (great-circle, divided by the set's longest edge) and
``edge_direction`` (unit vector towards the source in the destination's local east/north frame).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy.spatial import SphericalVoronoi

from anemoic.geo.sphere import chord_to_arc
from anemoic.geo.voronoi import voronoi_areas
from anemoic.graphs.errors import GraphError
from anemoic.graphs.nodes import NodeSet
from anemoic.plan.kinds import EdgeAttribute, NodeWeights, NodeWeightsNorm

LOGGER = logging.getLogger(__name__)
_OUTLIER_RATIO = 10.0  # a Voronoi cell this many times the median is a regional grid's open boundary


def node_weights(nodes: NodeSet, kind: str, norm: str) -> np.ndarray:
    """(N,) float32 weights of the nodes, normalised."""
    weigh = NODE_WEIGHTS.get(kind)  # type: ignore[call-overload]  # any str may be asked
    if weigh is None:
        raise GraphError(f"node_weights: unknown kind {kind!r}; choose {', '.join(NODE_WEIGHTS)}")
    return normalise(weigh(nodes), norm).astype(np.float32)


def normalise(values: np.ndarray, norm: str) -> np.ndarray:
    """Scale values so their sum, maximum, L1 or L2 norm is one (``none`` leaves them)."""
    if norm not in NORMS:
        raise GraphError(f"node_weights_norm: unknown norm {norm!r}; choose {', '.join(NORMS)}")
    scale = NORMS[norm]  # type: ignore[index]
    if scale is None:
        return values
    denominator = float(scale(values)) if values.size else 0.0
    return values / denominator if denominator > 0 else values


def spherical_areas(xyz: np.ndarray) -> np.ndarray:
    """Area of each point's spherical Voronoi cell on the unit sphere (steradians).

    Coincident points share their cell equally. Cells larger than 10x the median (or not positive)
    belong to the open boundary of a regional grid (they would swallow the rest of the sphere)
    and get the median area instead.
    """
    unique, inverse, counts = np.unique(np.round(xyz, 12), axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    if len(unique) < 4:
        return np.full(len(xyz), 4.0 * np.pi / len(xyz))
    cells = voronoi_areas(unique)
    if cells is None:  # the hull skipped points (numerically coplanar): let scipy's general code decide
        try:
            cells = SphericalVoronoi(unique, radius=1.0, center=np.zeros(3)).calculate_areas()
        except ValueError as exc:
            raise GraphError(f"spherical_area weights cannot be computed for this grid: {exc}") from None
    median = float(np.median(cells))
    outliers = (cells > _OUTLIER_RATIO * median) | (cells <= 0.0)
    if outliers.any():
        LOGGER.info("spherical_area: %d boundary cells of a regional grid set to the median area",
                    int(outliers.sum()))
        cells = np.where(outliers, median, cells)
    return cells[inverse] / counts[inverse]


def edge_features(source: NodeSet, target: NodeSet, src: np.ndarray, dst: np.ndarray,
                  names: tuple[str, ...]) -> np.ndarray:
    """(E, C) float32 features in the order of ``names``."""
    columns = []
    offset = source.xyz[src] - target.xyz[dst]
    for name in names:
        feature = EDGE_ATTRIBUTES.get(name)  # type: ignore[call-overload]  # any str may be asked
        if feature is None:
            raise GraphError(f"edge_attributes: unknown attribute {name!r}; choose {', '.join(EDGE_ATTRIBUTES)}")
        columns.append(feature(offset, target.lat[dst], target.lon[dst]))
    if not columns:
        return np.zeros((len(src), 0), np.float32)
    return np.concatenate(columns, axis=1).astype(np.float32)


def _lengths(offset: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(E, 1) great-circle lengths divided by the set's longest edge."""
    arc = chord_to_arc(np.linalg.norm(offset, axis=1))
    longest = float(arc.max()) if arc.size else 0.0
    return (arc / longest if longest > 0 else arc)[:, None]


def _directions(offset: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Unit (east, north) components of the source offset in the tangent plane of the destination.

    Zero-length edges (coincident nodes) have no direction and get (0, 0).
    """
    sin_lat, cos_lat, sin_lon, cos_lon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    east = -sin_lon * offset[:, 0] + cos_lon * offset[:, 1]
    north = -sin_lat * cos_lon * offset[:, 0] - sin_lat * sin_lon * offset[:, 1] + cos_lat * offset[:, 2]
    length = np.hypot(east, north)
    safe = np.where(length > 0, length, 1.0)
    return np.stack([east / safe, north / safe], axis=1) * (length > 0)[:, None]


NODE_WEIGHTS: dict[NodeWeights, Callable[[NodeSet], np.ndarray]] = {  # one per kinds.NODE_WEIGHTS
    "spherical_area": lambda nodes: spherical_areas(nodes.xyz),
    "cos_latitude": lambda nodes: np.cos(nodes.lat),
    "uniform": lambda nodes: np.ones(len(nodes)),
}
NORMS: dict[NodeWeightsNorm, Callable[[np.ndarray], float] | None] = {  # one per kinds.NODE_WEIGHTS_NORMS
    "unit_sum": lambda v: v.sum(),
    "unit_max": lambda v: np.abs(v).max(),
    "l1": lambda v: np.abs(v).sum(),
    "l2": lambda v: np.sqrt((v * v).sum()),
    "none": None,  # the weights as they are
}
EdgeFeature = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (source offset, dst lat, dst lon) -> (E, C)
EDGE_ATTRIBUTES: dict[EdgeAttribute, EdgeFeature] = {  # one per kinds.EDGE_ATTRIBUTES
    "edge_length": _lengths,
    "edge_direction": _directions,
}
