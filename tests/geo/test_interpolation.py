"""The bilinear interpolation matrix a spatial downscaler's residual base and baseline share."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.geo.interpolation import GridError, bilinear, spacing


def _grid(lats: list[float], lons: list[float]) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.meshgrid(lats, lons, indexing="ij")
    return lat.reshape(-1), lon.reshape(-1)


def test_a_linear_field_is_reproduced_exactly_inside_the_grid() -> None:
    """Bilinear interpolation is exact for a field linear in latitude and longitude (north-to-south rows)."""
    lat, lon = _grid([20.0, 10.0, 0.0], [150.0, 160.0, 170.0, 180.0])
    field = (2.0 * lat - 0.5 * lon)[:, None]
    to_lat, to_lon = np.array([15.0, 2.5, 10.0, 7.0]), np.array([155.0, 172.5, 160.0, 151.0])
    matrix = bilinear(lat, lon, to_lat, to_lon)
    np.testing.assert_allclose(matrix.apply(field)[:, 0], 2.0 * to_lat - 0.5 * to_lon)
    np.testing.assert_allclose(matrix.weights.sum(axis=1), 1.0)
    assert matrix.weights[2].max() == pytest.approx(1.0)  # a grid point takes its own value


def test_points_outside_the_grid_take_the_edge_values() -> None:
    lat, lon = _grid([10.0, 0.0], [0.0, 10.0])
    field = np.array([[1.0], [2.0], [3.0], [4.0]])  # (10, 0) (10, 10) (0, 0) (0, 10)
    matrix = bilinear(lat, lon, np.array([30.0, -5.0, 5.0]), np.array([-20.0 % 360, 5.0, 40.0]))
    out = matrix.apply(field)[:, 0]
    # north of the grid at 340E: clamped to the north-east corner (longitudes are not wrapped)
    np.testing.assert_allclose(out, [2.0, 3.5, 3.0])


def test_missing_source_points_are_left_out_and_none_valid_is_nan() -> None:
    lat, lon = _grid([10.0, 0.0], [0.0, 10.0])
    field = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, np.nan], [5.0, np.nan]])
    out = bilinear(lat, lon, np.array([5.0]), np.array([5.0])).apply(field)
    np.testing.assert_allclose(out[0, 0], 3.0)  # (1 + 3 + 5) / 3: the weights of the valid corners, renormalised
    assert np.isnan(out[0, 1])


def test_an_irregular_source_is_refused_and_spacing_is_the_widest_gap() -> None:
    lat, lon = _grid([20.0, 10.0, 0.0], [150.0, 155.0, 170.0])
    assert spacing(lat, lon) == 15.0
    with pytest.raises(GridError, match="not a regular"):
        bilinear(lat[:-1], lon[:-1], np.array([5.0]), np.array([160.0]))
