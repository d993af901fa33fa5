"""One edge set of the graph, held on the model's device with its attention index built once.

The graph is part of the plan (rebuilt from its recipe), not of the learned weights, so all
tensors here are *non-persistent* buffers: they follow ``.to(device)`` but never enter a
checkpoint, and a model can be loaded onto a graph whose node order differs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from anemoic.kernels import GraphAttentionIndex, build_csc_index

_INDEX_FIELDS = ("colptr", "src", "dst", "rev_ptr", "rev_perm", "rev_dst")


class EdgeSet(nn.Module):
    """Destination-sorted edges ``src -> dst`` with attributes and the CSC attention index."""

    def __init__(
        self,
        edge_index: Tensor,
        edge_attr: Tensor,
        num_src: int,
        num_dst: int,
        index: GraphAttentionIndex | None = None,
    ) -> None:
        """``index``: the graph's cached CSC index of these edges, reused instead of rebuilt when it matches."""
        super().__init__()
        if edge_attr.dim() != 2 or edge_attr.shape[0] != edge_index.shape[1]:
            raise ValueError(
                f"edge_attr must be (E, F) with E={edge_index.shape[1]} edges, got {tuple(edge_attr.shape)}"
            )
        if index is None or not _describes(index, edge_index, num_src, num_dst):
            index = build_csc_index(edge_index, num_src, num_dst)
        self.num_src = num_src
        self.num_dst = num_dst
        self._max_in_degree = index.max_in_degree
        self._max_out_degree = index.max_out_degree
        for name in _INDEX_FIELDS:
            self.register_buffer(name, getattr(index, name), persistent=False)
        self.register_buffer("edge_attr", edge_attr.to(torch.float32).contiguous(), persistent=False)

    @property
    def num_edges(self) -> int:
        return int(self.src.numel())

    @property
    def attr_dim(self) -> int:
        return int(self.edge_attr.shape[1])

    def attention_index(self) -> GraphAttentionIndex:
        """The index over the buffers as they are now (on the module's current device); no copies."""
        return GraphAttentionIndex(
            num_src=self.num_src,
            num_dst=self.num_dst,
            max_in_degree=self._max_in_degree,
            max_out_degree=self._max_out_degree,
            **{name: getattr(self, name) for name in _INDEX_FIELDS},
        )

    def extra_repr(self) -> str:
        return f"num_src={self.num_src}, num_dst={self.num_dst}, num_edges={self.num_edges}"


def _describes(index: GraphAttentionIndex, edge_index: Tensor, num_src: int, num_dst: int) -> bool:
    """Whether a cached index is exactly the index of ``edge_index`` (a cheap O(E) comparison)."""
    if (index.num_src, index.num_dst, index.num_edges) != (num_src, num_dst, int(edge_index.shape[1])):
        return False
    edges = edge_index.to(device=index.device, dtype=torch.int64)
    return bool(torch.equal(index.src, edges[0]) and torch.equal(index.dst, edges[1]))
