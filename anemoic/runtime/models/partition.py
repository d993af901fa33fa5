"""Destination partitions of an edge set: what one rank of a model group, or one chunk, computes.

A part is a contiguous range of destination nodes with all their incoming edges (edges are sorted by
destination, so these are contiguous too) and the sources those edges read, its *halo*. The part's
edges are renumbered: sources into the halo, destinations from 0. A block run on (halo sources, the
part's destinations, the part's edges) computes exactly the part's rows of the block run on the
whole edge set: the same edges meet each destination in the same order.

Model sharding (``shard = edges``) gives each rank of a model group one part of every mapper and of the
processor; chunked mappers (``num_chunks``) run a rank's destinations as several parts, one after
another. Parts are plain objects, not submodules: they differ from rank to rank, so they must stay
out of the ``state_dict`` and out of anything DDP broadcasts; ``like`` moves them where the model went.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from anemoic.runtime.models.edges import EdgeSet


@dataclass
class DestinationPart:
    dst_start: int  # global destination range [dst_start, dst_end)
    dst_end: int
    edge_start: int  # positions of its incoming edges in the edge set's (destination-sorted) order
    edge_end: int
    src_ids: Tensor  # (S,) int64 global source ids the part reads, ascending: its halo
    edges: EdgeSet  # the part's edges, sources numbered into src_ids, destinations from 0
    _placed: tuple[torch.device, torch.dtype] = field(default_factory=lambda: (torch.device("cpu"), torch.float32))

    @property
    def dst(self) -> slice:
        return slice(self.dst_start, self.dst_end)

    def like(self, whole: EdgeSet) -> DestinationPart:
        """Moved in place to the device and attribute dtype of the whole edge set, which follows the model
        (once; then a no-op)."""
        placed = (whole.edge_attr.device, whole.edge_attr.dtype)
        if placed != self._placed:
            self.src_ids = self.src_ids.to(placed[0])
            self.edges.to(device=placed[0], dtype=placed[1])
            self._placed = placed
        return self


def part_of(edges: EdgeSet, dst_start: int, dst_end: int) -> DestinationPart:
    """The part of ``edges`` whose destinations are ``[dst_start, dst_end)``."""
    index = edges.attention_index()
    local, src_ids = index.shard(dst_start, dst_end)
    edge_start, edge_end = index.edge_range(dst_start, dst_end)
    local_edges = torch.stack([local.src, local.dst])
    attributes = edges.edge_attr[edge_start:edge_end]
    sub = EdgeSet(local_edges.cpu(), attributes.cpu(), int(src_ids.numel()), dst_end - dst_start, index=local.to("cpu"))
    return DestinationPart(dst_start, dst_end, edge_start, edge_end, src_ids.cpu(), sub).like(edges)


def parts_of(edges: EdgeSet, dst_start: int, dst_end: int, chunks: int) -> list[DestinationPart]:
    """``[dst_start, dst_end)`` cut into ``chunks`` contiguous parts whose sizes differ by at most one."""
    from anemoic.runtime.distributed.groups import contiguous_parts

    bounds = contiguous_parts(dst_end - dst_start, max(1, min(chunks, max(dst_end - dst_start, 1))))
    return [part_of(edges, dst_start + a, dst_start + b) for a, b in zip(bounds[:-1], bounds[1:])]
