"""Differentiable exchanges between the ranks of a model group (gloo on CPU, NCCL on GPUs).

Every rank of a model group holds the same weights and runs the same code on its own partition; each
rank's backward yields only its own partition's share of every gradient, and the shares are summed over
the group (``strategy.mean_over_model_replicas``). For that to hold, each exchange has the adjoint that
matches how its output is used:

* ``gather`` (all-gather along the node dimension) whose output each rank uses for *its own* part of the
  work (sources of its destination nodes): the backward sums every rank's gradient of a slice onto the
  rank that owns it, a reduce-scatter;
* ``gather_replicated``, whose output every rank uses *identically* (the model's output feeding a loss
  computed on every rank): the backward keeps this rank's slice of the (identical) gradient;
* ``sum_replicated`` (all-reduce of a partial sum, e.g. a loss over grid shards, used identically by all):
  the backward passes the gradient through unchanged;
* ``nodes_to_heads`` / ``heads_to_nodes`` (all-to-all between node-sharded and head-sharded layouts): each
  is the other's backward.

Shards may differ in length by one (``groups.contiguous_parts``): gathers pad to the longest and cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

# torch >= 2.12 names them *_single (the *_tensor names warn); older torch has only the *_tensor ones
_ALL_GATHER = getattr(dist, "all_gather_single", None) or dist.all_gather_into_tensor
_REDUCE_SCATTER = getattr(dist, "reduce_scatter_single", None) or dist.reduce_scatter_tensor


@dataclass(frozen=True)
class Comm:
    """A model group (``group``, ``size`` ranks, this rank at ``rank``); ``size == 1``: no exchange at all."""

    group: Any
    size: int
    rank: int

    @staticmethod
    def alone() -> Comm:
        return Comm(None, 1, 0)


def _pad_to(x: Tensor, dim: int, length: int) -> Tensor:
    missing = length - x.shape[dim]
    if missing == 0:
        return x.contiguous()
    shape = list(x.shape)
    shape[dim] = missing
    return torch.cat([x, x.new_zeros(shape)], dim=dim).contiguous()


def _all_gather(x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    longest = max(sizes)
    padded = _pad_to(x, dim, longest).movedim(dim, 0).contiguous()
    out = padded.new_empty((comm.size * longest, *padded.shape[1:]))
    _ALL_GATHER(out, padded, group=comm.group)
    pieces = [out[r * longest:r * longest + n] for r, n in enumerate(sizes)]
    return torch.cat(pieces, dim=0).movedim(0, dim)


def _reduce_scatter(x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    longest = max(sizes)
    moved = x.movedim(dim, 0)
    pieces, start = [], 0
    for n in sizes:
        pieces.append(_pad_to(moved[start:start + n], 0, longest))
        start += n
    stacked = torch.cat(pieces, dim=0).contiguous()
    out = stacked.new_empty((longest, *stacked.shape[1:]))
    _REDUCE_SCATTER(out, stacked, group=comm.group)
    return out[:sizes[comm.rank]].movedim(0, dim).contiguous()


def _slice(x: Tensor, dim: int, sizes: tuple[int, ...], rank: int) -> Tensor:
    start = sum(sizes[:rank])
    return x.narrow(dim, start, sizes[rank]).contiguous()


class _Gather(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm, replicated: bool) -> Tensor:
        ctx.dim, ctx.sizes, ctx.comm, ctx.replicated = dim, sizes, comm, replicated
        return _all_gather(x, dim, sizes, comm)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.replicated:
            return _slice(grad, ctx.dim, ctx.sizes, ctx.comm.rank), None, None, None, None
        return _reduce_scatter(grad.contiguous(), ctx.dim, ctx.sizes, ctx.comm), None, None, None, None


def gather(x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """All shards of the group along ``dim`` (lengths ``sizes``), for this rank's own partition of the work."""
    if comm.size == 1:
        return x
    return _Gather.apply(x, dim, sizes, comm, False)


def gather_replicated(x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """All shards along ``dim``, for a computation every rank of the group repeats identically."""
    if comm.size == 1:
        return x
    return _Gather.apply(x, dim, sizes, comm, True)


class _SumReplicated(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, comm: Comm) -> Tensor:
        out = x.clone()
        dist.all_reduce(out, group=comm.group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def sum_replicated(x: Tensor, comm: Comm) -> Tensor:
    """The sum over the group of each rank's partial ``x``, to be used identically by every rank."""
    if comm.size == 1:
        return x
    return _SumReplicated.apply(x, comm)


def _to_heads(x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """(B, n_rank, H, C) node shard with all heads -> (B, N, H / size, C) all nodes with this rank's heads."""
    batch, nodes, heads, channels = x.shape
    per = heads // comm.size
    send = x.reshape(batch, nodes, comm.size, per, channels).permute(2, 1, 0, 3, 4).contiguous()
    out = send.new_empty((sum(sizes), batch, per, channels))
    dist.all_to_all_single(out, send.reshape(-1, batch, per, channels),
                           output_split_sizes=list(sizes), input_split_sizes=[nodes] * comm.size, group=comm.group)
    return out.permute(1, 0, 2, 3).contiguous()


def _to_nodes(x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """(B, N, H / size, C) all nodes with this rank's heads -> (B, n_rank, H, C) node shard with all heads."""
    batch, _, per, channels = x.shape
    nodes = sizes[comm.rank]
    send = x.permute(1, 0, 2, 3).contiguous()
    out = send.new_empty((comm.size * nodes, batch, per, channels))
    dist.all_to_all_single(out, send, output_split_sizes=[nodes] * comm.size, input_split_sizes=list(sizes),
                           group=comm.group)
    return out.reshape(comm.size, nodes, batch, per, channels).permute(2, 1, 0, 3, 4).reshape(
        batch, nodes, comm.size * per, channels)


class _NodesToHeads(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
        ctx.sizes, ctx.comm = sizes, comm
        return _to_heads(x, sizes, comm)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _to_nodes(grad.contiguous(), ctx.sizes, ctx.comm), None, None


class _HeadsToNodes(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
        ctx.sizes, ctx.comm = sizes, comm
        return _to_nodes(x, sizes, comm)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        return _to_heads(grad.contiguous(), ctx.sizes, ctx.comm), None, None


def nodes_to_heads(x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """(B, n_rank, H, C) -> (B, N, H / group size, C): every node, this rank's block of heads."""
    if comm.size == 1:
        return x
    return _NodesToHeads.apply(x, sizes, comm)


def heads_to_nodes(x: Tensor, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """(B, N, H / group size, C) -> (B, n_rank, H, C): the inverse of ``nodes_to_heads``."""
    if comm.size == 1:
        return x
    return _HeadsToNodes.apply(x, sizes, comm)


@torch.no_grad()
def gather_data(x: Tensor, dim: int, sizes: tuple[int, ...], comm: Comm) -> Tensor:
    """All slices of a batch (no gradient: data read by a read group, or a field gathered for a plot)."""
    if comm.size == 1:
        return x
    return _all_gather(x, dim, sizes, comm)
