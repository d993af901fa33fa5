"""Bilinear interpolation from a regular latitude/longitude grid to any points, as a sparse matrix.

A spatial downscaler adds its network's output to the coarse field interpolated onto the fine grid (its
residual base), and scores itself against the same interpolation: both read this one matrix, written down
once as four (source point, weight) pairs per destination point.  The source grid is the product of its
distinct latitudes and longitudes (anemoi's flattened regular grid, any row order); a destination outside it
takes the nearest edge's values (clamped, no extrapolation).  Longitudes are compared on 0..360 without
wrapping, which suits a regional grid; a global grid's seam is not bridged.  numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class GridError(ValueError):
    """The source points are not a regular latitude/longitude grid."""


@dataclass(frozen=True)
class InterpolationMatrix:
    """``values_at_destination[d] = sum_k weights[d, k] * values_at_source[index[d, k]]``."""

    index: np.ndarray  # (D, 4) int64 source points
    weights: np.ndarray  # (D, 4) float64, each row sums to 1
    source_size: int

    def apply(self, values: np.ndarray) -> np.ndarray:
        """``values`` (..., S, V) -> (..., D, V), NaN-aware: a destination's weights are renormalised over its
        valid source points; where none of them is valid it is NaN."""
        values = np.asarray(values, dtype=np.float64)
        valid = np.isfinite(values)
        filled = np.where(valid, values, 0.0)
        gathered = filled[..., self.index, :]  # (..., D, 4, V)
        weight = self.weights[..., None]
        total = (weight * valid[..., self.index, :]).sum(axis=-2)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (weight * gathered).sum(axis=-2) / total
        return np.where(total > 0, out, np.nan)


def regular_axes(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ascending distinct latitudes and longitudes (0..360) of a regular grid's points; GridError if the
    points are not every pair of them exactly once."""
    lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64) % 360.0
    lats, lons = np.unique(lat.round(6)), np.unique(lon.round(6))
    pairs = np.unique(np.stack([lat.round(6), lon.round(6)], axis=1), axis=0)
    if len(lats) < 2 or len(lons) < 2 or len(pairs) != len(lat) or len(lat) != len(lats) * len(lons):
        raise GridError(f"{len(lat)} points are not a regular latitude/longitude grid of two or more rows and "
                        f"columns ({len(lats)} latitudes x {len(lons)} longitudes)")
    return lats, lons


def spacing(lat: np.ndarray, lon: np.ndarray) -> float:
    """The largest gap between neighbouring latitudes or longitudes of a regular grid, in degrees."""
    lats, lons = regular_axes(lat, lon)
    return float(max(np.diff(lats).max(), np.diff(lons).max()))


def bilinear(source_lat: np.ndarray, source_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray
             ) -> InterpolationMatrix:
    """The bilinear interpolation from the regular grid ``source_*`` (its points in any order) to the points
    ``lat``/``lon`` (degrees), clamped at the grid's edges."""
    source_lat, source_lon = np.asarray(source_lat, np.float64), np.asarray(source_lon, np.float64) % 360.0
    lats, lons = regular_axes(source_lat, source_lon)
    position = {(a, b): i for i, (a, b) in enumerate(zip(source_lat.round(6), source_lon.round(6)))}
    y, wy = _axis(lats, np.asarray(lat, np.float64))
    x, wx = _axis(lons, np.asarray(lon, np.float64) % 360.0)
    corners = [(y, x, (1 - wy) * (1 - wx)), (y, x + 1, (1 - wy) * wx), (y + 1, x, wy * (1 - wx)),
               (y + 1, x + 1, wy * wx)]
    index = np.stack([np.array([position[(lats[j], lons[i])] for j, i in zip(rows, cols)], dtype=np.int64)
                      for rows, cols, _ in corners], axis=1)
    weights = np.stack([w for _, _, w in corners], axis=1)
    return InterpolationMatrix(index.reshape(-1, 4), weights.reshape(-1, 4), len(source_lat))


def _axis(axis: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each value, the cell (left index) and the fraction of the way to the next axis value, clamped."""
    clamped = np.clip(at, axis[0], axis[-1])
    left = np.clip(np.searchsorted(axis, clamped, side="right") - 1, 0, len(axis) - 2)
    fraction = (clamped - axis[left]) / (axis[left + 1] - axis[left])
    return left, np.clip(fraction, 0.0, 1.0)
