"""A spatial downscaler's graph: the coarse grid in, the hidden mesh, the fine grid out.

The model's data nodes are the coarse (source) dataset's points, then the fine (target) dataset's: the
encoder's edges leave only coarse points, the decoder's reach only fine points, so the network reads the
coarse field and writes the fine one.  The fine points start from the coarse field interpolated onto them
(``anemoic.geo.interpolation``), the residual the model's output is added to.  Node weights are the fine
grid's own, normalised over it, and zero on the coarse points: losses and scores see the fine grid alone.
A hidden mesh of kind ``dataset`` is the fine grid.  Torch-free, as ``graphs.build``.
"""

from __future__ import annotations

import numpy as np

from anemoic.graphs.arrays import EdgeArrays, GraphArrays
from anemoic.graphs.attributes import edge_features, node_weights
from anemoic.graphs.build import _coordinates
from anemoic.graphs.edges import build_edges
from anemoic.graphs.nodes import build_nodes
from anemoic.plan.model import GraphPlan, NodesPlan


def downscale_arrays(graph: GraphPlan, source_lat: np.ndarray, source_lon: np.ndarray, target_lat: np.ndarray,
                     target_lon: np.ndarray) -> GraphArrays:
    """The graph of ``graph``'s recipe from the source grid (degrees) to the target grid."""
    source = build_nodes(NodesPlan("dataset"), "source", source_lat, source_lon)
    target = build_nodes(graph.data, "data", target_lat, target_lon)
    hidden = build_nodes(graph.hidden, "hidden", target_lat, target_lon)
    region = graph.hidden.area if graph.hidden.area is not None else graph.data.area
    region = dict(region) if region is not None else None
    attributes = tuple(graph.edge_attributes)
    offset = len(source)
    edges = {}
    for name, src_nodes, dst_nodes in (("encoder", source, hidden), ("processor", hidden, hidden),
                                       ("decoder", hidden, target)):
        src, dst = build_edges(getattr(graph, name), name, src_nodes, dst_nodes, region)
        attr = edge_features(src_nodes, dst_nodes, src, dst, attributes)
        if name == "decoder":
            dst = dst + offset  # the fine points follow the coarse ones among the data nodes
        edges[name] = EdgeArrays(edge_index=np.stack([src, dst]), edge_attr=attr)
    weights = node_weights(target, graph.node_weights, graph.node_weights_norm)
    arrays = GraphArrays(
        data_x=np.concatenate([_coordinates(source), _coordinates(target)]),
        hidden_x=_coordinates(hidden),
        data_area_weight=np.concatenate([np.zeros(offset, np.float32), weights.astype(np.float32)]),
        data_grid_index=np.arange(offset + len(target), dtype=np.int64),
        edges=edges,
    )
    arrays.check()
    return arrays


def combined_grid(source_lat: np.ndarray, source_lon: np.ndarray, target_lat: np.ndarray,
                  target_lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitudes and longitudes (degrees) of the model's data nodes: the source's points, then the target's."""
    return (np.concatenate([np.asarray(source_lat, np.float64), np.asarray(target_lat, np.float64)]),
            np.concatenate([np.asarray(source_lon, np.float64), np.asarray(target_lon, np.float64)]))



