"""CSC index of a bipartite graph for edge attention, built once per graph and reused by every call.

Edges arrive sorted by destination (the graph builder guarantees it), so the forward and the
destination-side backward pass read incoming edges of node j as the contiguous slice
``colptr[j]:colptr[j+1]``. The source-side backward pass needs the same edges grouped by source:
``rev_ptr`` / ``rev_perm`` (positions in destination order) / ``rev_dst`` give that view without
atomics. All of it lives on one device and travels with ``.to(device)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True, eq=False)
class GraphAttentionIndex:
    """Destination-sorted edges with offsets, plus the by-source view used by the backward pass."""

    num_src: int
    num_dst: int
    colptr: Tensor  # (num_dst + 1,) int64: incoming edges of dst j are colptr[j]:colptr[j+1]
    src: Tensor  # (E,) int64 source id of each edge, dst-sorted order
    dst: Tensor  # (E,) int64 destination id of each edge, dst-sorted order (non-decreasing)
    rev_ptr: Tensor  # (num_src + 1,) int64: outgoing edges of src i are rev_perm[rev_ptr[i]:rev_ptr[i+1]]
    rev_perm: Tensor  # (E,) int64 edge positions (dst order) grouped by source
    rev_dst: Tensor  # (E,) int64 destination of each edge in by-source order
    max_in_degree: int
    max_out_degree: int

    @property
    def num_edges(self) -> int:
        return int(self.src.numel())

    @property
    def device(self) -> torch.device:
        return self.colptr.device

    def to(self, device: torch.device | str) -> GraphAttentionIndex:
        """The same index on another device (no host work beyond the copies)."""
        moved = {name: getattr(self, name).to(device) for name in _TENSOR_FIELDS}
        return GraphAttentionIndex(
            num_src=self.num_src,
            num_dst=self.num_dst,
            max_in_degree=self.max_in_degree,
            max_out_degree=self.max_out_degree,
            **moved,
        )

    def shard(self, dst_start: int, dst_end: int) -> tuple[GraphAttentionIndex, Tensor]:
        """Index of the destination range [dst_start, dst_end) with its incoming edges.

        Returns the local index (destinations renumbered from 0, sources renumbered into the
        halo) and ``src_ids``, the global source ids that the shard needs, in ascending order:
        call ``graph_attention(q[dst_start:dst_end], k[src_ids], v[src_ids],
        e[edge_start:edge_end], local)`` where the edge range is ``colptr[dst_start]:colptr[dst_end]``
        (see :meth:`edge_range`).
        """
        if not 0 <= dst_start <= dst_end <= self.num_dst:
            raise ValueError(
                f"shard range [{dst_start}, {dst_end}) is outside the {self.num_dst} destination nodes"
            )
        edge_start, edge_end = self.edge_range(dst_start, dst_end)
        global_src = self.src[edge_start:edge_end]
        src_ids, local_src = torch.unique(global_src, sorted=True, return_inverse=True)
        local_dst = self.dst[edge_start:edge_end] - dst_start
        local_edges = torch.stack([local_src.to(torch.int64), local_dst])
        local = build_csc_index(local_edges, int(src_ids.numel()), dst_end - dst_start)
        return local, src_ids

    def edge_range(self, dst_start: int, dst_end: int) -> tuple[int, int]:
        """Positions (dst order) of the incoming edges of destinations [dst_start, dst_end)."""
        bounds = self.colptr[[dst_start, dst_end]].tolist()
        return int(bounds[0]), int(bounds[1])


_TENSOR_FIELDS = ("colptr", "src", "dst", "rev_ptr", "rev_perm", "rev_dst")


def build_csc_index(edge_index: Tensor, num_src: int, num_dst: int) -> GraphAttentionIndex:
    """Build the index of a destination-sorted ``(2, E)`` edge list (row 0 source, row 1 destination).

    Raises ValueError for a malformed or unsorted edge list: attention results would silently be
    wrong otherwise.
    """
    if edge_index.dim() != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"edge_index must hold integers, got {edge_index.dtype}")
    src = edge_index[0].to(torch.int64).contiguous()
    dst = edge_index[1].to(torch.int64).contiguous()
    num_edges = int(src.numel())
    if num_edges:
        _check_range(src, num_src, "source")
        _check_range(dst, num_dst, "destination")
        if bool((dst[1:] < dst[:-1]).any()):
            raise ValueError("edge_index must be sorted by destination (row 1); sort it with a stable argsort first")
    in_degree = torch.bincount(dst, minlength=num_dst)
    out_degree = torch.bincount(src, minlength=num_src)
    colptr = _offsets(in_degree)
    rev_perm = torch.sort(src, stable=True).indices
    return GraphAttentionIndex(
        num_src=num_src,
        num_dst=num_dst,
        colptr=colptr,
        src=src,
        dst=dst,
        rev_ptr=_offsets(out_degree),
        rev_perm=rev_perm,
        rev_dst=dst[rev_perm].contiguous(),
        max_in_degree=int(in_degree.max()) if num_dst else 0,
        max_out_degree=int(out_degree.max()) if num_src else 0,
    )


def _offsets(degree: Tensor) -> Tensor:
    offsets = torch.zeros(degree.numel() + 1, dtype=torch.int64, device=degree.device)
    torch.cumsum(degree, dim=0, out=offsets[1:])
    return offsets


def _check_range(ids: Tensor, size: int, role: str) -> None:
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= size:
        raise ValueError(f"{role} ids must lie in [0, {size}), found values in [{low}, {high}]")
