import numpy as np
import pytest

from anemoic.plan.model import EdgesPlan, NodesPlan
from anemoic.graphs.edges import build_edges, reference_distance
from anemoic.graphs.errors import GraphError
from anemoic.graphs.nodes import build_nodes
from anemoic.geo.sphere import EARTH_RADIUS_KM, arc_to_chord
from tests.graphs.helpers import random_node_set

SOURCE = random_node_set(3000, seed=1)
TARGET = random_node_set(400, seed=2)


def _distances(src_ids, dst_ids, source=SOURCE, target=TARGET):
    return np.linalg.norm(source.xyz[src_ids] - target.xyz[dst_ids], axis=1)


def _assert_sorted(src, dst):
    order = np.lexsort((src, dst))
    np.testing.assert_array_equal(order, np.arange(src.size))


def test_knn_gives_every_target_exactly_its_k_nearest_sources():
    src, dst = build_edges(EdgesPlan("knn", {"k": 5}), "decoder", SOURCE, TARGET, None)
    assert (np.bincount(dst, minlength=len(TARGET)) == 5).all()
    all_distances = np.linalg.norm(TARGET.xyz[:, None, :] - SOURCE.xyz[None, :, :], axis=2)
    nearest = np.sort(all_distances, axis=1)[:, :5]
    found = np.sort(_distances(src, dst).reshape(len(TARGET), 5), axis=1)
    np.testing.assert_allclose(found, nearest)
    _assert_sorted(src, dst)


def test_reversed_knn_gives_every_source_k_targets():
    src, dst = build_edges(EdgesPlan("knn", {"k": 2}, reversed=True), "encoder", SOURCE, TARGET, None)
    assert (np.bincount(src, minlength=len(SOURCE)) == 2).all()
    _assert_sorted(src, dst)


def test_cutoff_edges_are_all_pairs_shorter_than_the_radius():
    plan = EdgesPlan("cutoff", {"factor": 0.7, "max_neighbours": 10_000})
    src, dst = build_edges(plan, "encoder", SOURCE, TARGET, None)
    radius = 0.7 * reference_distance(TARGET.xyz)
    assert (_distances(src, dst) < radius).all()
    all_distances = np.linalg.norm(TARGET.xyz[:, None, :] - SOURCE.xyz[None, :, :], axis=2)
    assert src.size == int((all_distances < radius).sum())
    _assert_sorted(src, dst)


def test_cutoff_reference_distance_is_the_largest_nearest_neighbour_distance_of_the_targets():
    all_distances = np.linalg.norm(TARGET.xyz[:, None, :] - TARGET.xyz[None, :, :], axis=2)
    np.fill_diagonal(all_distances, np.inf)
    assert reference_distance(TARGET.xyz) == pytest.approx(all_distances.min(axis=1).max())


def test_cutoff_neighbour_cap_keeps_the_nearest_sources():
    capped = build_edges(EdgesPlan("cutoff", {"factor": 1.0, "max_neighbours": 4}), "e", SOURCE, TARGET, None)
    full = build_edges(EdgesPlan("cutoff", {"factor": 1.0, "max_neighbours": 10_000}), "e", SOURCE, TARGET, None)
    assert np.bincount(capped[1]).max() == 4
    full_d = _distances(*full)
    for target in range(0, len(TARGET), 37):
        mine = np.sort(_distances(*(a[capped[1] == target] for a in capped)))
        theirs = np.sort(full_d[full[1] == target])[: mine.size]
        np.testing.assert_allclose(mine, theirs)


def test_cutoff_in_km_uses_great_circle_distance():
    src, dst = build_edges(EdgesPlan("cutoff", {"radius_km": 800.0}), "e", SOURCE, TARGET, None)
    assert (_distances(src, dst) < arc_to_chord(800.0 / EARTH_RADIUS_KM)).all()
    assert src.size > 0


def test_multiscale_edges_count_60_4r_per_level_in_both_directions():
    mesh = build_nodes(NodesPlan("icosahedral", {"refinement": 4}), "hidden", [], [])
    src, dst = build_edges(EdgesPlan("multiscale", {"levels": 4}), "processor", mesh, mesh, None)
    assert src.size == sum(60 * 4**r for r in range(1, 5))
    keys = set(zip(src.tolist(), dst.tolist()))
    assert all((b, a) in keys for a, b in keys)
    _assert_sorted(src, dst)
    finest_only = build_edges(EdgesPlan("multiscale", {"levels": 1}), "processor", mesh, mesh, None)
    assert finest_only[0].size == 60 * 4**4


def test_multiscale_with_two_hops_reaches_the_second_ring():
    mesh = build_nodes(NodesPlan("icosahedral", {"refinement": 2}), "hidden", [], [])
    src, dst = build_edges(EdgesPlan("multiscale", {"levels": 1, "x_hops": 2}), "processor", mesh, mesh, None)
    degree = np.bincount(dst)
    assert degree[:12].tolist() == [15] * 12  # pentagon vertices: 5 + 10 within two hops
    assert (degree[12:] >= 17).all()


def test_masks_restrict_sources_and_targets_to_the_area():
    region = {"north": 60.0, "west": -30.0, "south": -10.0, "east": 50.0}
    plan = EdgesPlan("knn", {"k": 3}, source_mask="area", target_mask="outside_area")
    src, dst = build_edges(plan, "decoder", SOURCE, TARGET, region)
    lat_s, lon_s = np.degrees(SOURCE.lat[src]), np.degrees(SOURCE.lon[src])
    assert ((lat_s >= -10) & (lat_s <= 60) & (lon_s >= -30) & (lon_s <= 50)).all()
    lat_t, lon_t = np.degrees(TARGET.lat[dst]), np.degrees(TARGET.lon[dst])
    assert not ((lat_t >= -10) & (lat_t <= 60) & (lon_t >= -30) & (lon_t <= 50)).any()
    assert (np.bincount(dst)[np.unique(dst)] == 3).all()


@pytest.mark.parametrize(("plan", "message"), [
    (EdgesPlan("radius", {}), "unknown edge kind 'radius'"),
    (EdgesPlan("knn", {"k": 0}), "k must be >= 1"),
    (EdgesPlan("knn", {"k": 5000}), "only 3000 source nodes"),
    (EdgesPlan("cutoff", {"factor": 0.5, "radius_km": 100.0}), "exactly one of factor"),
    (EdgesPlan("multiscale", {}), "processor only"),
    (EdgesPlan("knn", {"k": 1}, source_mask="land"), "unknown mask 'land'"),
    (EdgesPlan("knn", {"k": 1}, source_mask="area"), "needs an area"),
])
def test_recipe_mistakes_raise_graph_errors(plan, message):
    with pytest.raises(GraphError, match=message):
        build_edges(plan, "encoder", SOURCE, TARGET, None)


def test_multiscale_needs_a_mesh():
    with pytest.raises(GraphError, match="icosahedral or stretched"):
        build_edges(EdgesPlan("multiscale", {}), "processor", TARGET, TARGET, None)


def test_misspelt_edge_parameters_are_refused():
    with pytest.raises(GraphError, match=r"encoder cutoff: unknown parameter 'cutoff_factor'"):
        build_edges(EdgesPlan("cutoff", {"cutoff_factor": 0.6}), "encoder", SOURCE, TARGET, None)
