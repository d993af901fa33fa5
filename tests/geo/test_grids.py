import numpy as np
import pytest

from anemoic.geo import grids


@pytest.mark.parametrize("level", range(0, 5))
def test_healpix_has_12_4l_distinct_centres_in_equal_latitude_bands(level):
    lat, lon = grids.healpix_centres(level)
    assert lat.size == 12 * 4**level
    points = np.unique(np.round(np.stack([lat, lon], axis=1), 9), axis=0)
    assert len(points) == lat.size
    np.testing.assert_allclose(np.sort(lat), -np.sort(lat)[::-1], atol=1e-9)  # north-south symmetric


def test_healpix_centres_sample_the_sphere_uniformly():
    lat, _ = grids.healpix_centres(3)
    # equal-area pixels: the mean of z = sin(lat) over the sphere is 0 and its mean square is 1/3
    z = np.sin(np.radians(lat))
    assert abs(z.mean()) < 1e-12
    assert abs((z * z).mean() - 1.0 / 3.0) < 2e-3


def test_octahedral_o96_has_40320_points_with_20_plus_4i_per_row():
    lat, lon = grids.octahedral_reduced_gaussian(96)
    assert lat.size == 40_320
    _, counts = np.unique(lat, return_counts=True)
    assert sorted(counts.tolist()) == sorted([20 + 4 * i for i in range(96)] * 2)
    assert lon.min() >= 0.0 and lon.max() < 360.0


def test_cos_latitude_stand_in_has_the_requested_point_count():
    lat, _ = grids.cos_latitude_reduced_gaussian(64, 21_000)
    assert lat.size == 21_000
    assert len(np.unique(lat)) == 128


def test_regular_latlon_uses_cell_centres_and_refuses_uneven_resolutions():
    lat, lon = grids.regular_latlon(30.0)
    assert lat.size == 6 * 12
    assert lat.min() == -75.0 and lat.max() == 75.0
    with pytest.raises(ValueError, match="divide 180"):
        grids.regular_latlon(7.0)


def test_healpix_level_0_matches_the_base_pixels_of_healpy():
    lat, lon = grids.healpix_centres(0)  # healpy.pix2ang(1, range(12), lonlat=True)
    ring = np.degrees(np.arcsin(2.0 / 3.0))
    np.testing.assert_allclose(lat, [ring] * 4 + [0.0] * 4 + [-ring] * 4, atol=1e-12)
    np.testing.assert_allclose(lon, [45, 135, 225, 315, 0, 90, 180, 270, 45, 135, 225, 315], atol=1e-12)


def test_healpix_level_1_matches_healpy_ring_order():
    lat, lon = grids.healpix_centres(1)  # healpy.pix2ang(2, [0, 1, 2, 3, 4, 12, 20], lonlat=True)
    np.testing.assert_allclose(lat[:4], np.degrees(np.arcsin(11.0 / 12.0)), atol=1e-12)
    np.testing.assert_allclose(lon[:5], [45, 135, 225, 315, 22.5], atol=1e-12)
    np.testing.assert_allclose([lat[12], lon[12]], [np.degrees(np.arcsin(1.0 / 3.0)), 0.0], atol=1e-12)
    np.testing.assert_allclose([lat[20], lon[20]], [0.0, 22.5], atol=1e-12)
