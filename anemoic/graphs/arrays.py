"""A built graph as plain numpy arrays: what the builder produces, the cache stores and HeteroData wraps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EDGE_SETS = {"encoder": ("data", "hidden"), "processor": ("hidden", "hidden"), "decoder": ("hidden", "data")}


@dataclass(frozen=True)
class EdgeArrays:
    edge_index: np.ndarray  # (2, E) int64, row 0 source, row 1 destination, sorted by destination
    edge_attr: np.ndarray  # (E, C) float32


@dataclass(frozen=True)
class GraphArrays:
    data_x: np.ndarray  # (N_data, 2) float32 [lat, lon] radians
    hidden_x: np.ndarray  # (N_hidden, 2) float32
    data_area_weight: np.ndarray  # (N_data,) float32
    data_grid_index: np.ndarray  # (N_data,) int64: which dataset grid points the data nodes are
    edges: dict[str, EdgeArrays]  # keys of EDGE_SETS

    def num_nodes(self, node_type: str) -> int:
        return int((self.data_x if node_type == "data" else self.hidden_x).shape[0])

    def check(self) -> None:
        """Raise ValueError if the arrays do not form a consistent graph (used on cache loads)."""
        for name, (src_type, dst_type) in EDGE_SETS.items():
            edges = self.edges[name]
            index = edges.edge_index
            if index.ndim != 2 or index.shape[0] != 2 or index.dtype != np.int64:
                raise ValueError(f"{name}: edge_index has shape {index.shape} and dtype {index.dtype}")
            if edges.edge_attr.shape[0] != index.shape[1]:
                raise ValueError(f"{name}: {edges.edge_attr.shape[0]} attribute rows for {index.shape[1]} edges")
            if index.size and (index.min() < 0 or index[0].max() >= self.num_nodes(src_type)
                               or index[1].max() >= self.num_nodes(dst_type)):
                raise ValueError(f"{name}: edge_index refers to nodes that do not exist")
            if index.size and (np.diff(index[1]) < 0).any():
                raise ValueError(f"{name}: edges are not sorted by destination")
        if self.data_area_weight.shape != (self.num_nodes("data"),) or \
                self.data_grid_index.shape != (self.num_nodes("data"),):
            raise ValueError("data node arrays disagree in length")
