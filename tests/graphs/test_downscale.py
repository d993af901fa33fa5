"""A spatial downscaler's graph: the encoder leaves only coarse points, the decoder reaches only fine points,
and the node weights keep the coarse points out of losses and scores."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.geo.grids import grid_points
from anemoic.graphs.downscale import combined_grid, downscale_arrays
from anemoic.graphs.errors import GraphError
from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan

GRAPH = GraphPlan(name="g", cache_key="", data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": 2}),
                  encoder=EdgesPlan("knn", {"k": 4}), processor=EdgesPlan("multiscale", {"levels": 2}),
                  decoder=EdgesPlan("knn", {"k": 3}))


def test_the_coarse_points_feed_the_encoder_and_the_fine_points_take_the_decoder() -> None:
    coarse_lat, coarse_lon, _, _ = grid_points((4, 8))
    fine_lat, fine_lon, _, _ = grid_points((8, 16))
    arrays = downscale_arrays(GRAPH, coarse_lat, coarse_lon, fine_lat, fine_lon)
    coarse, fine = len(coarse_lat), len(fine_lat)
    assert arrays.num_nodes("data") == coarse + fine
    encoder, decoder = arrays.edges["encoder"].edge_index, arrays.edges["decoder"].edge_index
    assert encoder[0].max() < coarse and set(encoder[0]) == set(range(coarse))  # every coarse point is read
    assert decoder[1].min() == coarse and set(decoder[1]) == set(range(coarse, coarse + fine))
    assert len(decoder[1]) == 3 * fine  # k = 3 per fine point
    weights = arrays.data_area_weight
    assert (weights[:coarse] == 0).all() and (weights[coarse:] > 0).all()
    assert weights.sum() == pytest.approx(1.0, rel=1e-6)
    lat, lon = combined_grid(coarse_lat, coarse_lon, fine_lat, fine_lon)
    np.testing.assert_allclose(np.degrees(arrays.data_x[:, 0]), lat, atol=1e-4)
    np.testing.assert_allclose(arrays.data_x[coarse:, 0], np.radians(fine_lat).astype(np.float32))


def test_a_hidden_mesh_of_kind_dataset_is_the_fine_grid() -> None:
    coarse_lat, coarse_lon, _, _ = grid_points((4, 8))
    fine_lat, fine_lon, _, _ = grid_points((8, 16))
    graph = GraphPlan(**{**GRAPH.__dict__, "hidden": NodesPlan("dataset"), "processor": EdgesPlan("knn", {"k": 4})})
    arrays = downscale_arrays(graph, coarse_lat, coarse_lon, fine_lat, fine_lon)
    assert arrays.num_nodes("hidden") == len(fine_lat)
    with pytest.raises(GraphError):
        downscale_arrays(GRAPH, coarse_lat, coarse_lon, fine_lat[:0], fine_lon[:0])
