"""Icosahedral triangular refinement of the unit sphere, written with numpy.

Each level splits every triangle into four through its edge midpoints (pushed back onto the
sphere). New vertices are appended, so the vertices of level r are the first 10*4^r + 2 of every
finer level: coarse levels are prefixes, which is what makes multi-scale edges cheap and the
ordering deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_PHI = (1.0 + 5.0**0.5) / 2.0
_BASE_VERTICES = np.array(
    [
        [-1, _PHI, 0], [1, _PHI, 0], [-1, -_PHI, 0], [1, -_PHI, 0],
        [0, -1, _PHI], [0, 1, _PHI], [0, -1, -_PHI], [0, 1, -_PHI],
        [_PHI, 0, -1], [_PHI, 0, 1], [-_PHI, 0, -1], [-_PHI, 0, 1],
    ],
    dtype=np.float64,
)
_BASE_FACES = np.array(
    [
        [0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11],
        [1, 5, 9], [5, 11, 4], [11, 10, 2], [10, 7, 6], [7, 1, 8],
        [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9],
        [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1],
    ],
    dtype=np.int64,
)


@dataclass(frozen=True)
class IcosahedralMesh:
    """Vertices of the finest level and the undirected edges (i < j) of every level 0..refinement."""

    xyz: np.ndarray  # (10*4^n + 2, 3) unit vectors
    level_edges: tuple[np.ndarray, ...]  # level r: (30*4^r, 2) int64 vertex pairs

    @property
    def refinement(self) -> int:
        return len(self.level_edges) - 1


def num_nodes(refinement: int) -> int:
    """Vertices of an icosahedron refined ``refinement`` times."""
    return 10 * 4**refinement + 2


def face_edges(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected edges (E, 2) sorted, and for each face corner-pair its edge number (F, 3)."""
    pairs = np.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], axis=1).reshape(-1, 2)
    pairs = np.sort(pairs, axis=1)
    stride = int(faces.max()) + 1
    keys, inverse = np.unique(pairs[:, 0] * stride + pairs[:, 1], return_inverse=True)
    return np.stack([keys // stride, keys % stride], axis=1), inverse.reshape(-1, 3)


def refine(refinement: int) -> IcosahedralMesh:
    """The icosahedron refined ``refinement`` times (0 = the 12-vertex icosahedron)."""
    if refinement < 0:
        raise ValueError(f"refinement must be >= 0, got {refinement}")
    xyz = _BASE_VERTICES / np.linalg.norm(_BASE_VERTICES, axis=1, keepdims=True)
    faces = _BASE_FACES
    level_edges = []
    for _ in range(refinement):
        edges, face_edge = face_edges(faces)
        level_edges.append(edges)
        midpoints = xyz[edges[:, 0]] + xyz[edges[:, 1]]
        midpoints /= np.linalg.norm(midpoints, axis=1, keepdims=True)
        first_new = len(xyz)
        xyz = np.concatenate([xyz, midpoints])
        ab, bc, ca = (face_edge[:, i] + first_new for i in range(3))
        a, b, c = faces[:, 0], faces[:, 1], faces[:, 2]
        faces = np.concatenate(
            [np.stack(t, axis=1) for t in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))]
        )
    level_edges.append(face_edges(faces)[0])
    return IcosahedralMesh(xyz=xyz, level_edges=tuple(level_edges))
