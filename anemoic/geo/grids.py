"""Point sets on the sphere defined by formulas: HEALPix centres, regular and reduced Gaussian grids.

All functions return (latitude, longitude) in degrees, longitudes in [0, 360), float64.  The one
home of every grid formula: synthetic stores (``grid_points``) and graph node sets use the same ones.
The octahedral grid O``n`` is the one ECMWF's AIFS trains on: ``n`` Gaussian latitude rows per
hemisphere, row i (0-based from the pole) holding 20 + 4i points, 4n(n+9) in all ("o96" has 40,320);
points run north to south, west to east from 0 degrees.
"""

from __future__ import annotations

import re

import numpy as np

Grid = str | tuple[int, int]


def grid_points(grid: Grid) -> tuple[np.ndarray, np.ndarray, str, tuple[int, ...]]:
    """(latitudes, longitudes) in degrees, the resolution name and the field shape of ``grid``:
    ``"o96"`` (octahedral), ``"36x72"`` or ``(36, 72)`` (regular, cell centres, north to south)."""
    if isinstance(grid, str):
        octahedral = re.fullmatch(r"[oO](\d+)", grid.strip())
        if octahedral:
            n = int(octahedral.group(1))
            if n < 1:
                raise ValueError("an octahedral grid needs N >= 1")
            lat, lon = octahedral_reduced_gaussian(n)
            return lat, lon, f"o{n}", (len(lat),)
        regular = re.fullmatch(r"(\d+)x(\d+)", grid.strip())
        if not regular:
            raise ValueError(f"grid {grid!r} is neither 'oN' (octahedral) nor 'NLATxNLON'")
        grid = (int(regular.group(1)), int(regular.group(2)))
    n_lat, n_lon = grid
    if n_lat < 2 or n_lon < 2:
        raise ValueError(f"grid {n_lat}x{n_lon} needs at least 2 latitudes and 2 longitudes")
    lat, lon = _regular(n_lat, n_lon, 180.0 / n_lat, 360.0 / n_lon, from_north=True)
    return lat, lon, f"{n_lat}x{n_lon}", (n_lat, n_lon)


def _regular(rows: int, cols: int, lat_step: float, lon_step: float, *, from_north: bool) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres (no pole rows: a pole row would be one point repeated), row by row."""
    offsets = (np.arange(rows) + 0.5) * lat_step
    lat = 90.0 - offsets if from_north else -90.0 + offsets
    lon = np.arange(cols) * lon_step
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    return lat2.reshape(-1), lon2.reshape(-1)


def healpix_centres(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the 12 * 4^level HEALPix pixels (nside = 2^level), in RING order.

    Written from the HEALPix definition (Gorski et al. 2005, eqs. 4-9) so that no extra package
    is needed: polar-cap rings i < nside hold 4i pixels, the 2*nside+1 equatorial rings 4*nside.
    Pixel order and positions equal healpy's ``pix2ang(nside, arange(npix), nest=False)``.
    """
    if level < 0:
        raise ValueError(f"HEALPix level must be >= 0, got {level}")
    nside = 2**level
    z_rows, phi_rows = [], []
    for ring in range(1, 4 * nside):
        north_ring = min(ring, 4 * nside - ring)
        if north_ring < nside:  # polar caps
            count = 4 * north_ring
            z = 1.0 - north_ring**2 / (3.0 * nside**2)
            phi = (np.arange(1, count + 1) - 0.5) * np.pi / (2.0 * north_ring)
        else:  # equatorial belt
            count = 4 * nside
            z = 4.0 / 3.0 - 2.0 * north_ring / (3.0 * nside)
            shift = 0.5 if (ring - nside + 1) % 2 else 1.0  # pixel 0 of a ring starts at longitude 0 or half a step
            phi = (np.arange(1, count + 1) - shift) * np.pi / (2.0 * nside)
        z_rows.append(np.full(count, z if ring <= 2 * nside else -z))
        phi_rows.append(phi)
    z = np.concatenate(z_rows)
    lon = np.degrees(np.concatenate(phi_rows)) % 360.0
    return np.degrees(np.arcsin(z)), lon


def regular_latlon(resolution_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of a regular grid, south to north: latitudes -90 + (i + 1/2) res, longitudes j res."""
    rows, cols = 180.0 / resolution_deg, 360.0 / resolution_deg
    if resolution_deg <= 0 or abs(rows - round(rows)) > 1e-9 or abs(cols - round(cols)) > 1e-9:
        raise ValueError(f"resolution_deg must divide 180 exactly, got {resolution_deg}")
    return _regular(round(rows), round(cols), resolution_deg, resolution_deg, from_north=False)


def gaussian_latitudes(n: int) -> np.ndarray:
    """The 2n Gaussian latitudes (degrees, north to south) of an N``n`` / O``n`` grid."""
    roots, _ = np.polynomial.legendre.leggauss(2 * n)
    return np.degrees(np.arcsin(roots[::-1]))


def _rows_to_points(latitudes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.repeat(latitudes, counts)
    lon = np.concatenate([np.arange(c) * (360.0 / c) for c in counts])
    return lat, lon


def octahedral_reduced_gaussian(n: int) -> tuple[np.ndarray, np.ndarray]:
    """ECMWF's octahedral grid O``n``: 20 + 4i points on row i from each pole (4n(n+9) points)."""
    half = 20 + 4 * np.arange(n)
    return _rows_to_points(gaussian_latitudes(n), np.concatenate([half, half[::-1]]))


def cos_latitude_reduced_gaussian(n: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    """A reduced Gaussian grid with 2n rows and exactly ``total`` points, rows in proportion to cos(lat).

    A stand-in for the classic reduced grids (N320 has 542,080 points) whose per-row counts are a
    table, not a formula: same rows, same point count, same near-uniform density.
    """
    latitudes = gaussian_latitudes(n)
    weights = np.cos(np.radians(latitudes[:n]))
    ideal = weights / weights.sum() * (total // 2)
    counts = np.floor(ideal).astype(np.int64)
    remainder = total // 2 - int(counts.sum())
    counts[np.argsort(-(ideal - counts), kind="stable")[:remainder]] += 1
    return _rows_to_points(latitudes, np.concatenate([counts, counts[::-1]]))
