"""Unit-sphere geometry shared by the node and edge builders.

Everything is computed on unit-sphere xyz (never on degrees as if they were
Euclidean), so nearest-neighbour searches with a KD-tree are exact in chord
distance, and chord and great-circle distance convert one-to-one.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0


def latlon_to_xyz(lat_rad: np.ndarray, lon_rad: np.ndarray) -> np.ndarray:
    """(N,) latitude/longitude in radians -> (N, 3) float64 unit vectors."""
    cos_lat = np.cos(lat_rad)
    return np.stack([cos_lat * np.cos(lon_rad), cos_lat * np.sin(lon_rad), np.sin(lat_rad)], axis=1)


def xyz_to_latlon(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) vectors (any length) -> latitude, longitude in radians, longitude in (-pi, pi]."""
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    lat = np.arctan2(z, np.hypot(x, y))
    lon = np.arctan2(y, x)
    return lat, lon


def chord_to_arc(chord: np.ndarray | float) -> np.ndarray | float:
    """Straight-line distance between unit vectors -> great-circle angle (radians)."""
    return 2.0 * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def arc_to_chord(arc: np.ndarray | float) -> np.ndarray | float:
    """Great-circle angle (radians) -> straight-line distance between unit vectors."""
    return 2.0 * np.sin(np.asarray(arc) / 2.0)


def inside_area(lat_rad: np.ndarray, lon_rad: np.ndarray, bounds: tuple[float, float, float, float],
                margin_km: float = 0.0) -> np.ndarray:
    """Boolean mask of points inside the box ``(north, west, south, east)`` in degrees (west > east: the
    box crosses the date line).

    A margin widens the box by that great-circle distance: latitudes by margin/R, longitudes by
    margin/(R cos lat) at each point's latitude (the whole circle of longitude near the poles).
    """
    north, west, south, east = bounds
    margin_rad = max(float(margin_km), 0.0) / EARTH_RADIUS_KM
    lat_deg = np.degrees(lat_rad)
    margin_lat = np.degrees(margin_rad)
    in_lat = (lat_deg >= south - margin_lat) & (lat_deg <= north + margin_lat)
    if east - west >= 360.0:
        return in_lat
    width = (east - west) % 360.0
    margin_lon = np.degrees(np.minimum(margin_rad / np.maximum(np.cos(lat_rad), 1e-12), np.pi))
    offset = (np.degrees(lon_rad) - west + margin_lon) % 360.0
    in_lon = (offset <= width + 2.0 * margin_lon) | (width + 2.0 * margin_lon >= 360.0)
    return in_lat & in_lon
