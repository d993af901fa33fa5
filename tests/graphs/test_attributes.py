import numpy as np
import pytest

from anemoic.plan.model import NodesPlan
from anemoic.graphs.attributes import edge_features, node_weights, normalise, spherical_areas
from anemoic.graphs.errors import GraphError
from anemoic.graphs.nodes import build_nodes
from tests.graphs.helpers import node_set, o_grid


def test_spherical_areas_of_a_global_grid_sum_to_4_pi():
    nodes = node_set(*o_grid(16))
    assert spherical_areas(nodes.xyz).sum() == pytest.approx(4 * np.pi, rel=1e-9)


def test_spherical_areas_of_the_icosahedron_are_equal():
    mesh = build_nodes(NodesPlan("icosahedral", {"refinement": 0}), "hidden", [], [])
    np.testing.assert_allclose(spherical_areas(mesh.xyz), 4 * np.pi / 12)


def test_coincident_points_share_their_cell():
    lat, lon = o_grid(8)
    nodes = node_set(np.concatenate([lat, lat[:1]]), np.concatenate([lon, lon[:1]]))
    areas = spherical_areas(nodes.xyz)
    assert areas.sum() == pytest.approx(4 * np.pi)
    assert areas[0] == areas[-1]


def test_open_boundary_cells_of_a_regional_grid_get_the_median_area():
    lat, lon = np.meshgrid(np.arange(40.0, 60.0, 1.0), np.arange(0.0, 20.0, 1.0), indexing="ij")
    areas = spherical_areas(node_set(lat.ravel(), lon.ravel()).xyz)
    assert areas.max() <= 10 * np.median(areas)


@pytest.mark.parametrize(("norm", "check"), [
    ("unit_sum", lambda w: w.sum()),
    ("l1", lambda w: np.abs(w).sum()),
    ("unit_max", lambda w: w.max()),
    ("l2", lambda w: np.sqrt((w * w).sum())),
])
def test_weight_norms(norm, check):
    weights = node_weights(node_set(*o_grid(16)), "spherical_area", norm)
    assert weights.dtype == np.float32
    assert check(weights.astype(np.float64)) == pytest.approx(1.0, rel=1e-6)


def test_cos_latitude_and_uniform_weights():
    nodes = node_set(*o_grid(8))
    np.testing.assert_allclose(node_weights(nodes, "cos_latitude", "none"), np.cos(nodes.lat), rtol=1e-6)
    np.testing.assert_allclose(node_weights(nodes, "uniform", "unit_sum"), 1.0 / len(nodes), rtol=1e-6)
    with pytest.raises(GraphError, match="unknown kind 'planar'"):
        node_weights(nodes, "planar", "unit_sum")
    with pytest.raises(GraphError, match="unknown norm"):
        normalise(np.ones(3), "unit_range")


def test_edge_length_is_scaled_to_the_longest_edge_and_direction_points_to_the_source():
    target = node_set(np.array([10.0]), np.array([20.0]))
    source = node_set(np.array([12.0, 10.0, 10.0, 10.0]), np.array([20.0, 21.0, 19.0, 20.0]))
    features = edge_features(source, target, np.arange(4), np.zeros(4, int), ("edge_length", "edge_direction"))
    assert features.shape == (4, 3) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, 0], [1.0, np.cos(np.radians(10.0)) / 2, np.cos(np.radians(10.0)) / 2, 0.0],
                               rtol=2e-3)
    np.testing.assert_allclose(features[0, 1:], [0.0, 1.0], atol=1e-6)  # source due north
    np.testing.assert_allclose(features[1, 1:], [1.0, 0.0], atol=2e-3)  # due east
    np.testing.assert_allclose(features[2, 1:], [-1.0, 0.0], atol=2e-3)  # due west
    np.testing.assert_allclose(features[3, 1:], [0.0, 0.0])  # coincident: no direction


def test_directions_have_unit_norm_everywhere_including_the_poles():
    target = node_set(np.array([90.0, -90.0, 0.0]), np.array([0.0, 0.0, 179.9]))
    source = node_set(np.array([89.0, -89.0, 0.2]), np.array([45.0, 90.0, -179.9]))
    features = edge_features(source, target, np.arange(3), np.arange(3), ("edge_direction",))
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(features[2], [np.sqrt(0.5), np.sqrt(0.5)], atol=2e-3)  # north-east over the date line


def test_hull_based_areas_match_scipy_spherical_voronoi():
    from scipy.spatial import SphericalVoronoi

    from anemoic.geo.grids import healpix_centres
    from anemoic.geo.voronoi import voronoi_areas

    for lat, lon in (o_grid(16), healpix_centres(2)):
        xyz = node_set(lat, lon).xyz
        expected = SphericalVoronoi(xyz, radius=1.0, center=np.zeros(3)).calculate_areas()
        np.testing.assert_allclose(voronoi_areas(xyz), expected, rtol=1e-9)
