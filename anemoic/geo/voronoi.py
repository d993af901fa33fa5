"""Spherical Voronoi cell areas from the convex hull, vectorised.

scipy's ``SphericalVoronoi`` builds every cell polygon in Python, which takes most of a
half-million-point build. The areas alone need less: on the sphere's Delaunay triangulation
(the convex hull), the cell of vertex ``a`` is the union over its triangles (a, b, c) with
circumcentre ``o`` of the quadrilaterals (a, mid(a,b), o, mid(c,a)). Using signed spherical
triangle areas, obtuse triangles (circumcentre outside) cancel exactly as they should, so the
cells tile the sphere and their areas sum to 4 pi.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError


def voronoi_areas(xyz: np.ndarray) -> np.ndarray | None:
    """(N,) cell areas of distinct unit vectors; None where the hull does not use every point."""
    try:
        hull = ConvexHull(xyz)
    except QhullError:
        return None
    if len(hull.vertices) != len(xyz):
        return None
    a, b, c = (xyz[hull.simplices[:, i]] for i in range(3))
    corner_a, corner_b, corner_c = (hull.simplices[:, i] for i in range(3))
    clockwise = np.einsum("ij,ij->i", a, np.cross(b, c)) < 0
    b, c = np.where(clockwise[:, None], c, b), np.where(clockwise[:, None], b, c)
    corner_b, corner_c = np.where(clockwise, corner_c, corner_b), np.where(clockwise, corner_b, corner_c)
    centre = _unit(np.cross(b - a, c - a))
    mid_ab, mid_bc, mid_ca = _unit(a + b), _unit(b + c), _unit(c + a)
    areas = np.zeros(len(xyz))
    for corner, point, after, before in ((corner_a, a, mid_ab, mid_ca), (corner_b, b, mid_bc, mid_ab),
                                          (corner_c, c, mid_ca, mid_bc)):
        share = _signed_area(point, after, centre) + _signed_area(point, centre, before)
        areas += np.bincount(corner, weights=share, minlength=len(xyz))
    return areas


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _signed_area(p: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed area of spherical triangles (Van Oosterom & Strackee): positive when counter-clockwise."""
    triple = np.einsum("ij,ij->i", p, np.cross(q, r))
    denominator = 1.0 + np.einsum("ij,ij->i", p, q) + np.einsum("ij,ij->i", q, r) + np.einsum("ij,ij->i", r, p)
    return 2.0 * np.arctan2(triple, denominator)
