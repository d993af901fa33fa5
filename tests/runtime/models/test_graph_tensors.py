"""The graph as tensors: the contract of ``build_graph`` (HeteroData with the kernel index) over the numpy builder."""

import dataclasses

import numpy as np
import pytest
import torch

from anemoic.plan.model import EdgesPlan
from anemoic.runtime.models.graph_tensors import build_graph
from anemoic.graphs.build import build_arrays
from tests.graphs.helpers import o_grid, recipe

RELATIONS = [("data", "to", "hidden"), ("hidden", "to", "hidden"), ("hidden", "to", "data")]


@pytest.fixture(scope="module")
def graph():
    return build_graph(recipe(), *o_grid(16))


def test_hetero_data_follows_the_contract(graph):
    assert set(graph.node_types) == {"data", "hidden"}
    assert sorted(graph.edge_types) == sorted(RELATIONS)
    assert graph["data"].x.shape == (1600, 2) and graph["data"].x.dtype == torch.float32
    assert graph["hidden"].x.shape == (642, 2)
    assert graph["data"].area_weight.dtype == torch.float32
    assert float(graph["data"].area_weight.double().sum()) == pytest.approx(1.0, rel=1e-6)
    assert torch.equal(graph["data"].grid_index, torch.arange(1600))
    lat, lon = o_grid(16)
    np.testing.assert_allclose(graph["data"].x[:, 0].numpy(), np.radians(lat), rtol=1e-6)
    for relation in RELATIONS:
        store = graph[relation]
        index, attr = store.edge_index, store.edge_attr
        assert index.dtype == torch.int64 and index.shape[0] == 2
        assert attr.shape == (index.shape[1], 3) and attr.dtype == torch.float32
        assert bool((index[1, 1:] >= index[1, :-1]).all())
        assert float(attr[:, 0].max()) == pytest.approx(1.0)
        norms = attr[:, 1:].norm(dim=1)
        assert bool(((norms - 1).abs() < 1e-4).all())


def test_decoder_knn_in_degree_and_processor_count(graph):
    decoder = graph["hidden", "to", "data"].edge_index
    assert bool((torch.bincount(decoder[1], minlength=1600) == 3).all())
    assert graph["hidden", "to", "hidden"].edge_index.shape[1] == 60 * (4 + 16 + 64)


def test_the_kernel_index_comes_with_the_graph(graph):
    from anemoic import kernels
    store = graph["data", "to", "hidden"]
    expected = kernels.build_csc_index(store.edge_index, 1600, 642)
    assert torch.equal(store.csc_index.colptr, expected.colptr)
    assert torch.equal(store.csc_index.rev_perm, expected.rev_perm)


def test_building_twice_gives_identical_graphs():
    first, second = build_arrays(recipe(), *o_grid(16)), build_arrays(recipe(), *o_grid(16))
    np.testing.assert_array_equal(first.data_x, second.data_x)
    np.testing.assert_array_equal(first.data_area_weight, second.data_area_weight)
    for name in first.edges:
        np.testing.assert_array_equal(first.edges[name].edge_index, second.edges[name].edge_index)
        np.testing.assert_array_equal(first.edges[name].edge_attr, second.edges[name].edge_attr)


def test_limited_area_data_nodes_carry_their_grid_index():
    box = {"north": 70.0, "west": -20.0, "south": 30.0, "east": 40.0}
    plan = recipe(data=dataclasses.replace(recipe().data, area=box),
                  hidden=dataclasses.replace(recipe().hidden, area=box, params={"refinement": 4}),
                  processor=EdgesPlan("multiscale", {"levels": 4}))
    graph = build_graph(plan, *o_grid(32))
    lat = np.degrees(graph["data"].x[:, 0].numpy())
    assert lat.min() >= 30.0 - 1e-4 and lat.max() <= 70.0 + 1e-4
    full_lat, _ = o_grid(32)
    np.testing.assert_allclose(full_lat[graph["data"].grid_index.numpy()], lat, atol=1e-4)


def test_selected_edge_attributes_only():
    graph = build_graph(recipe(edge_attributes=("edge_length",)), *o_grid(8))
    assert graph["hidden", "to", "data"].edge_attr.shape[1] == 1


def test_a_mesh_masked_to_the_region_of_a_cut_out_grid_builds_as_tensors():
    from anemoic.graphs.cutout import cutout_grid
    from anemoic.plan.model import NodesPlan

    lat, lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 5.0), np.arange(100.0, 141.0, 5.0)))
    grid = cutout_grid(lat, lon, *o_grid(16), margin_km=500.0)
    plan = recipe(hidden=NodesPlan("icosahedral", {"refinement": 3, "mask": "maritime", "margin_km": 1000.0}))
    graph = build_graph(plan, grid.lat, grid.lon, region_size=grid.region_size)
    assert graph["data"].x.shape == (len(grid.lat), 2) and 0 < graph["hidden"].x.shape[0] < 642 // 4
