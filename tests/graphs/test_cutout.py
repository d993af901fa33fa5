"""The cut-out grid: region first, boundary points only beyond the margin."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.geo.sphere import EARTH_RADIUS_KM, latlon_to_xyz
from anemoic.graphs.cutout import cutout_grid
from anemoic.graphs.errors import GraphError


def _grid(lats, lons):
    lat, lon = np.meshgrid(lats, lons, indexing="ij")
    return lat.ravel().astype(float), lon.ravel().astype(float)


def test_region_comes_first_and_boundary_points_near_it_are_dropped():
    region = _grid(np.arange(-10, 11, 2.5), np.arange(160, 201, 2.5))
    boundary = _grid(np.arange(-30, 31, 5), np.arange(100, 261, 5))
    grid = cutout_grid(*region, *boundary, margin_km=300.0)
    assert grid.region_size == len(region[0])
    np.testing.assert_array_equal(grid.lat[: grid.region_size], region[0])
    assert grid.region_mask.sum() == grid.region_size
    kept = latlon_to_xyz(np.radians(grid.lat[grid.region_size:]), np.radians(grid.lon[grid.region_size:]))
    inner = latlon_to_xyz(np.radians(region[0]), np.radians(region[1]))
    nearest = np.min(np.linalg.norm(kept[:, None] - inner[None], axis=2), axis=1)
    assert np.all(2 * np.arcsin(nearest / 2) * EARTH_RADIUS_KM > 300.0)
    dropped = np.setdiff1d(np.arange(len(boundary[0])), grid.boundary_index)
    assert dropped.size > 0 and np.all(np.diff(grid.boundary_index) > 0)
    np.testing.assert_array_equal(grid.lon[grid.region_size:], boundary[1][grid.boundary_index])


def test_a_boundary_inside_the_margin_everywhere_is_a_graph_error():
    region = _grid(np.arange(-10, 11, 5), np.arange(160, 201, 5))
    with pytest.raises(GraphError, match="wider area than the region"):
        cutout_grid(*region, *region, margin_km=100.0)
