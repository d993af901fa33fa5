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
    with pytest.raises(GraphError, match=r"unknown parameter 'level' \(expected: refinement, margin_km\)"):
        build_nodes(NodesPlan("icosahedral", {"refinement": 2, "level": 3}), "hidden", [], [])
