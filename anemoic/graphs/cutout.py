"""A limited-area model's grid: the region's points, then the boundary dataset's points around them.

As anemoi-datasets' ``cutout``, a boundary point is kept only when it is farther than ``margin_km`` from
every region point, so the two datasets never describe the same place twice.  The region comes first: its
points are ``0 .. region_size - 1`` of the combined grid, which is what the task's output mask selects
(``Plan.task.output_mask``).  Torch-free, shared by the compiler (graph sizes, cache key) and the runtime
(data, graph, boundary forcing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from anemoic.geo.sphere import EARTH_RADIUS_KM, arc_to_chord, latlon_to_xyz
from anemoic.graphs.errors import GraphError


@dataclass(frozen=True)
class CutoutGrid:
    """Latitudes and longitudes in degrees of the combined grid (region first), the region's size, and for
    each boundary point of the combined grid its index in the boundary dataset's grid."""

    lat: np.ndarray
    lon: np.ndarray
    region_size: int
    boundary_index: np.ndarray  # (len(lat) - region_size,) int64, ascending

    @property
    def region_mask(self) -> np.ndarray:
        """True on the region's points: the output mask over the combined grid."""
        mask = np.zeros(len(self.lat), dtype=bool)
        mask[: self.region_size] = True
        return mask


def cutout_grid(region_lat: np.ndarray, region_lon: np.ndarray, boundary_lat: np.ndarray,
                boundary_lon: np.ndarray, margin_km: float) -> CutoutGrid:
    """The region's grid followed by the boundary points farther than ``margin_km`` from all of it."""
    if margin_km < 0:
        raise GraphError(f"the cut-out margin must not be negative, not {margin_km} km")
    region = latlon_to_xyz(np.radians(region_lat), np.radians(region_lon))
    boundary = latlon_to_xyz(np.radians(boundary_lat), np.radians(boundary_lon))
    chord, _ = cKDTree(region).query(boundary, k=1)
    keep = np.flatnonzero(chord > arc_to_chord(margin_km / EARTH_RADIUS_KM) + 1e-9)
    if keep.size == 0:
        raise GraphError(f"no point of the boundary dataset lies farther than {margin_km:g} km from the region: "
                         "the boundary dataset must cover a wider area than the region")
    lat = np.concatenate([np.asarray(region_lat, dtype=np.float64), np.asarray(boundary_lat, dtype=np.float64)[keep]])
    lon = np.concatenate([np.asarray(region_lon, dtype=np.float64), np.asarray(boundary_lon, dtype=np.float64)[keep]])
    return CutoutGrid(lat, lon, len(region_lat), keep.astype(np.int64))


@dataclass(frozen=True)
class GridSources:
    """Which dataset each point of a cut-out grid comes from: what ``graph describe`` counts and ``graph plot``
    colours, so a person sees the region and its boundary before training on them."""

    region: str  # the region dataset's name (the task's output mask)
    boundary: str
    region_size: int
    boundary_points: int  # the boundary dataset's whole grid, before the cut-out
    margin_km: float

    @classmethod
    def of(cls, grid: CutoutGrid, region: str, boundary: str, boundary_points: int, margin_km: float) -> GridSources:
        return cls(region, boundary, grid.region_size, int(boundary_points), float(margin_km))

    def in_region(self, grid_index: np.ndarray) -> np.ndarray:
        """True for the grid positions (e.g. ``GraphArrays.data_grid_index``) that are the region's."""
        return np.asarray(grid_index) < self.region_size
