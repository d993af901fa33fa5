"""Grids for synthetic stores: octahedral reduced Gaussian ("o96") and regular lat/lon.

The octahedral grid is the one ECMWF's AIFS trains on: N latitude rows per
hemisphere at the Gaussian latitudes (roots of the Legendre polynomial of degree
2N), row i (1-based from the pole) holding 4i+16 points, 4N(N+9) in all, so
"o96" has 40,320 points.  Points run north to south, west to east from 0 deg.
"""

from __future__ import annotations

import re

import numpy as np

Grid = str | tuple[int, int]


def grid_points(grid: Grid) -> tuple[np.ndarray, np.ndarray, str, tuple[int, ...]]:
    """(latitudes, longitudes) in degrees, the resolution name and the field shape of `grid`."""
    if isinstance(grid, str):
        octahedral = re.fullmatch(r"[oO](\d+)", grid.strip())
        if octahedral:
            n = int(octahedral.group(1))
            lat, lon = octahedral_grid(n)
            return lat, lon, f"o{n}", (len(lat),)
        regular = re.fullmatch(r"(\d+)x(\d+)", grid.strip())
        if not regular:
            raise ValueError(f"grid {grid!r} is neither 'oN' (octahedral) nor 'NLATxNLON'")
        grid = (int(regular.group(1)), int(regular.group(2)))
    n_lat, n_lon = grid
    if n_lat < 2 or n_lon < 2:
        raise ValueError(f"grid {n_lat}x{n_lon} needs at least 2 latitudes and 2 longitudes")
    lat, lon = regular_grid(n_lat, n_lon)
    return lat, lon, f"{n_lat}x{n_lon}", (n_lat, n_lon)


def octahedral_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n < 1:
        raise ValueError("an octahedral grid needs N >= 1")
    nodes, _ = np.polynomial.legendre.leggauss(2 * n)
    row_latitudes = np.degrees(np.arcsin(nodes))[::-1]  # north to south
    counts = [4 * (i + 1) + 16 for i in range(n)]
    counts = counts + counts[::-1]
    lats = np.concatenate([np.full(c, lat) for c, lat in zip(counts, row_latitudes)])
    lons = np.concatenate([np.arange(c) * (360.0 / c) for c in counts])
    return lats, lons


def regular_grid(n_lat: int, n_lon: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centred rows (no duplicated pole points), north to south."""
    row_latitudes = 90.0 - (np.arange(n_lat) + 0.5) * (180.0 / n_lat)
    lons = np.arange(n_lon) * (360.0 / n_lon)
    lat2, lon2 = np.meshgrid(row_latitudes, lons, indexing="ij")
    return lat2.reshape(-1), lon2.reshape(-1)
