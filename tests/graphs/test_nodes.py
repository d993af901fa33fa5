import re

import numpy as np
import pytest

from anemoic.plan.model import NodesPlan
from anemoic.graphs.errors import GraphError
from anemoic.geo.icosahedron import num_nodes
from anemoic.graphs.nodes import build_nodes
from tests.graphs.helpers import o_grid

EUROPE = {"north": 72.0, "west": -25.0, "south": 30.0, "east": 45.0}
PACIFIC = {"north": 20.0, "west": 160.0, "south": -20.0, "east": -150.0}  # crosses the date line


def _inside(lat, lon, box):
    lat_deg, lon_deg = np.degrees(lat), np.degrees(lon) % 360.0
    west, east = box["west"] % 360.0, box["east"] % 360.0
    in_lon = (lon_deg >= west) | (lon_deg <= east) if west > east else (lon_deg >= west) & (lon_deg <= east)
    return (lat_deg >= box["south"]) & (lat_deg <= box["north"]) & in_lon


def test_dataset_nodes_are_the_grid_in_radians_with_their_grid_index():
    lat, lon = o_grid()
    nodes = build_nodes(NodesPlan("dataset"), "data", lat, lon)
    np.testing.assert_allclose(np.degrees(nodes.lat), lat)
    np.testing.assert_array_equal(nodes.grid_index, np.arange(lat.size))
    np.testing.assert_allclose(np.linalg.norm(nodes.xyz, axis=1), 1.0)


@pytest.mark.parametrize("box", [EUROPE, PACIFIC])
def test_limited_area_keeps_exactly_the_nodes_inside_the_box(box):
    lat, lon = o_grid(32)
    full = build_nodes(NodesPlan("dataset"), "data", lat, lon)
    lam = build_nodes(NodesPlan("dataset", area=box), "data", lat, lon)
    expected = np.flatnonzero(_inside(full.lat, full.lon, box))
    np.testing.assert_array_equal(lam.grid_index, expected)
    assert 0 < len(lam) < len(full)


def test_limited_area_mesh_keeps_only_edges_between_kept_nodes():
    nodes = build_nodes(NodesPlan("icosahedral", {"refinement": 4}, area=EUROPE), "hidden", np.zeros(0), np.zeros(0))
    assert _inside(nodes.lat, nodes.lon, EUROPE).all()
    for edges in nodes.mesh_edges:
        assert edges.size == 0 or edges.max() < len(nodes)


def test_margin_widens_the_area():
    plain = build_nodes(NodesPlan("icosahedral", {"refinement": 4}, area=EUROPE), "hidden", [], [])
    wide = build_nodes(NodesPlan("icosahedral", {"refinement": 4, "margin_km": 500.0}, area=EUROPE), "hidden", [], [])
    assert len(wide) > len(plain)


def test_stretched_mesh_is_fine_inside_the_area_and_coarse_outside():
    plan = NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 4}, area=EUROPE)
    nodes = build_nodes(plan, "hidden", [], [])
    fine = nodes.grid_index >= num_nodes(2)
    assert fine.any() and _inside(nodes.lat[fine], nodes.lon[fine], EUROPE).all()
    np.testing.assert_array_equal(nodes.grid_index[: num_nodes(2)], np.arange(num_nodes(2)))


@pytest.mark.parametrize(("plan", "count"), [
    (NodesPlan("icosahedral", {"refinement": 3}), 642),
    (NodesPlan("healpix", {"level": 2}), 192),
    (NodesPlan("latlon", {"resolution_deg": 10.0}), 648),
])
def test_mesh_node_counts(plan, count):
    assert len(build_nodes(plan, "hidden", [], [])) == count


@pytest.mark.parametrize(("plan", "message"), [
    (NodesPlan("hexagonal", {}), "unknown kind 'hexagonal'"),
    (NodesPlan("icosahedral", {}), "parameter 'refinement' is missing"),
    (NodesPlan("icosahedral", {"refinement": 2.5}), "refinement must be a whole number"),
    (NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 4}), "need an area"),
    (NodesPlan("latlon", {"resolution_deg": 7.0}), "divide 180"),
    (NodesPlan("icosahedral", {"refinement": 2}, area={"north": 10, "south": 20, "west": 0, "east": 5}),
     "south < north"),
])
def test_recipe_mistakes_raise_graph_errors_that_name_the_problem(plan, message):
    with pytest.raises(GraphError, match=message):
        build_nodes(plan, "hidden", [], [])


def test_unusable_grids_are_refused():
    with pytest.raises(GraphError, match="NaN"):
        build_nodes(NodesPlan("dataset"), "data", np.array([0.0, np.nan]), np.array([0.0, 1.0]))
    with pytest.raises(GraphError, match=r"\[-90, 90\]"):
        build_nodes(NodesPlan("dataset"), "data", np.array([0.0, 91.0]), np.array([0.0, 1.0]))
    with pytest.raises(GraphError, match="empty"):
        build_nodes(NodesPlan("dataset", area=EUROPE), "data", np.array([0.0]), np.array([100.0]))


def test_misspelt_parameters_are_refused():
    with pytest.raises(GraphError, match=r"unknown parameter 'level' \(expected: refinement, margin_km, mask\)"):
        build_nodes(NodesPlan("icosahedral", {"refinement": 2, "level": 3}), "hidden", [], [])


def _region_and_globe(margin_km: float = 0.0) -> tuple[np.ndarray, np.ndarray, int]:
    """A cut-out grid: a 2-degree box over the maritime continent first, then the o16 globe beyond it."""
    from anemoic.graphs.cutout import cutout_grid

    region_lat, region_lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 2.0), np.arange(100.0, 141.0, 2.0)))
    grid = cutout_grid(region_lat, region_lon, *o_grid(16), margin_km=margin_km)
    return grid.lat, grid.lon, grid.region_size


def _distance_km(nodes, lat_deg, lon_deg):
    from scipy.spatial import cKDTree

    from anemoic.geo.sphere import EARTH_RADIUS_KM, latlon_to_xyz

    chord, _ = cKDTree(latlon_to_xyz(np.radians(lat_deg), np.radians(lon_deg))).query(nodes.xyz, k=1)
    return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * EARTH_RADIUS_KM


@pytest.mark.parametrize("plan", [NodesPlan("icosahedral", {"refinement": 4}), NodesPlan("healpix", {"level": 3}),
                                  NodesPlan("latlon", {"resolution_deg": 4.0})], ids=lambda p: p.kind)
def test_a_mask_keeps_the_mesh_within_the_margin_of_the_region(plan):
    lat, lon, region_size = _region_and_globe()
    full = build_nodes(plan, "hidden", lat, lon)
    masked_plan = NodesPlan(plan.kind, {**plan.params, "mask": "maritime", "margin_km": 800.0})
    masked = build_nodes(masked_plan, "hidden", lat, lon, region_size=region_size)
    near = _distance_km(full, lat[:region_size], lon[:region_size]) <= 800.0
    kept = np.isin(full.grid_index, masked.grid_index)
    assert kept[near].all() and 0 < near.sum() <= len(masked) < len(full) / 5
    # beyond the margin only the region points' nearest nodes survive: none here, the margin is wider than a cell
    assert (_distance_km(masked, lat[:region_size], lon[:region_size]) <= 800.0 + 1e-6).all()


def test_a_mask_keeps_each_region_points_nearest_node_even_with_no_margin():
    lat, lon, region_size = _region_and_globe()
    masked = build_nodes(NodesPlan("icosahedral", {"refinement": 2, "mask": "maritime"}), "hidden", lat, lon,
                         region_size=region_size)
    assert 0 < len(masked) <= 20  # a few level-2 nodes (about 1,000 km apart) over the 20x40 degree box
    assert all(((pair >= 0) & (pair < len(masked))).all() for pair in masked.mesh_edges)


def test_a_stretched_mesh_refines_near_the_masked_region():
    lat, lon, region_size = _region_and_globe()
    nodes = build_nodes(NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 4, "mask": "maritime",
                                                "margin_km": 500.0}), "hidden", lat, lon, region_size=region_size)
    far = _distance_km(nodes, lat[:region_size], lon[:region_size]) > 500.0
    assert np.array_equal(nodes.grid_index[: num_nodes(2)], np.arange(num_nodes(2)))  # the whole coarse globe
    assert (nodes.grid_index[far] < num_nodes(2)).all()  # fine nodes only near the region
    assert len(nodes) - num_nodes(2) > 50


@pytest.mark.parametrize("plan, region_size, message", [
    (NodesPlan("icosahedral", {"refinement": 2, "mask": "maritime"}), None,
     "hidden nodes: mask = maritime needs a cut-out grid"),
    (NodesPlan("dataset", {"mask": "maritime"}), 10, "unknown parameter 'mask'"),
    (NodesPlan("stretched", {"global_refinement": 1, "area_refinement": 2, "mask": "maritime"}, area=EUROPE), 10,
     "stretched nodes need an area (north, west, south, east) or a mask, not both"),
    (NodesPlan("healpix", {"level": 1, "mask": 3}), 10, "mask must name the region's dataset, got 3"),
])
def test_mask_mistakes_name_the_problem(plan, region_size, message):
    lat, lon, _ = _region_and_globe()
    with pytest.raises(GraphError, match=re.escape(message)):
        build_nodes(plan, "hidden", lat, lon, region_size=region_size)
