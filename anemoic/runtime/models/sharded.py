"""The model's parts run on one rank of a model group, or a mapper run in chunks.

Sharded by ``edges`` (docs/runtime.md "Model sharding"): every rank owns a contiguous range of the data
nodes and of the hidden nodes; each mapper and processor block computes the rank's destination nodes
from their incoming edges, reading its halo of source nodes from an all-gather of the sources (the
backward is a reduce-scatter). The transformer processor has no edges: a rank's queries attend over
the gathered keys and values (all of them, or its window's).

Sharded by ``heads``: attention blocks (GraphTransformer, transformer) project queries, keys and values
on the rank's nodes, exchange them all-to-all so that each rank holds every node for ``heads / ranks``
heads, attend, and exchange the result back; everything else (embeddings, MLPs, GNN blocks) runs on the
rank's nodes as under ``edges``.

Chunked (``num_chunks``): a mapper computes its destinations (the rank's, when sharded) as several
parts one after another, each under activation checkpointing, so only one part's edge activations are
alive at a time; under ``heads`` the chunks cut the attention over all destinations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from anemoic.plan.kinds import ShardStrategy
from anemoic.runtime.distributed.collectives import Comm, gather, heads_to_nodes, nodes_to_heads
from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.graph_transformer import GraphTransformerBlock
from anemoic.runtime.models.partition import DestinationPart, parts_of
from anemoic.runtime.models.transformer import TransformerBlock
from anemoic.runtime.registry import pick

SPLITS_HEADS: dict[ShardStrategy, bool] = {"edges": False, "heads": True}
"""Whether a strategy splits attention blocks by heads (blocks without heads are split by nodes either way)."""


def run_block(block: Any, checkpointing: bool, *args: object) -> Any:
    """Call ``block``; with checkpointing, keep only its inputs and recompute inside on backward."""
    if checkpointing and torch.is_grad_enabled():
        return checkpoint(block, *args, use_reentrant=False)
    return block(*args)


@dataclass(frozen=True)
class ShardContext:
    """This rank's share of a model group: its ranks (``comm``), the strategy, and the node partitions."""

    comm: Comm
    strategy: str  # anemoic.plan.kinds.ShardStrategy
    batch_sharded: bool  # the model's input and output stay split over the grid (keep_batch_sharded)
    data_sizes: tuple[int, ...]  # data nodes of each rank (groups.contiguous_parts)
    hidden_sizes: tuple[int, ...]

    @property
    def data_range(self) -> slice:
        return _range(self.data_sizes, self.comm.rank)

    @property
    def hidden_range(self) -> slice:
        return _range(self.hidden_sizes, self.comm.rank)

    def heads(self, heads: int) -> slice:
        per = heads // self.comm.size
        return slice(self.comm.rank * per, (self.comm.rank + 1) * per)


def _range(sizes: tuple[int, ...], rank: int) -> slice:
    start = sum(sizes[:rank])
    return slice(start, start + sizes[rank])


@dataclass
class MapperRun:
    """How a mapper runs when not in one piece on the whole graph."""

    comm: Comm
    src_sizes: tuple[int, ...]  # source nodes per rank
    dst_sizes: tuple[int, ...]
    parts: list[DestinationPart] | None  # None: the whole edge set as one part (heads only)
    heads: slice | None = None  # this rank's heads when attention is sharded by heads
    chunked: bool = False  # each part recomputed on backward (num_chunks > 1)


def mapper_run(mapper: Any, comm: Comm, strategy: str, src_sizes: tuple[int, ...],
               dst_sizes: tuple[int, ...]) -> MapperRun:
    """The run of ``mapper`` (a ``GraphMapper``) on rank ``comm.rank`` of a group (or alone, chunked)."""
    chunks, edges = mapper.num_chunks, mapper.edges
    if pick(SPLITS_HEADS, strategy, "shard strategy") and comm.size > 1 and isinstance(mapper.block,
                                                                                       GraphTransformerBlock):
        parts = parts_of(edges, 0, edges.num_dst, chunks) if chunks > 1 else None
        per = mapper.block.heads // comm.size
        return MapperRun(comm, src_sizes, dst_sizes, parts, slice(comm.rank * per, (comm.rank + 1) * per),
                         chunks > 1)
    mine = _range(dst_sizes, comm.rank)
    return MapperRun(comm, src_sizes, dst_sizes, parts_of(edges, mine.start, mine.stop, chunks), None, chunks > 1)


def run_mapper(mapper: Any, x_src: Tensor, x_dst: Tensor, run: MapperRun) -> Tensor:
    """The mapper's destinations of this rank (``x_dst``, B x n x C) from its sources (``x_src``, this rank's)."""
    if run.heads is not None:
        step = functools.partial(_mapper_by_heads, mapper, run)
        return run_block(step, mapper.checkpointing, x_src, x_dst)
    sources = gather(x_src, 1, run.src_sizes, run.comm)
    assert run.parts is not None
    first = run.parts[0].dst_start
    outs = []
    for part in run.parts:
        part.like(mapper.edges)
        step = functools.partial(_mapper_part, mapper, part, first)
        outs.append(run_block(step, run.chunked or mapper.checkpointing, sources, x_dst))
    return outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)


def _mapper_part(mapper: Any, part: DestinationPart, first: int, sources: Tensor, x_dst: Tensor) -> Tensor:
    halo = sources.index_select(1, part.src_ids)
    mine = x_dst[:, part.dst_start - first:part.dst_end - first]
    out, _ = mapper.block(halo, mine, mapper.edge_embedding(part.edges.edge_attr), part.edges)
    return out


def _mapper_by_heads(mapper: Any, run: MapperRun, x_src: Tensor, x_dst: Tensor) -> Tensor:
    block: GraphTransformerBlock = mapper.block
    query, key, value = block.project(x_src, x_dst)
    query = nodes_to_heads(query, run.dst_sizes, run.comm)
    key, value = (nodes_to_heads(t, run.src_sizes, run.comm) for t in (key, value))
    assert run.heads is not None
    if run.parts is None:
        edges: EdgeSet = mapper.edges
        edge = block.edge_features(mapper.edge_embedding(edges.edge_attr), run.heads)
        attended = block.attend(query, key, value, edge, edges.attention_index())
    else:
        chunks = []
        for part in run.parts:
            part.like(mapper.edges)
            step = functools.partial(_attend_part, mapper, part, run.heads)
            chunks.append(run_block(step, run.chunked, query, key, value))
        attended = torch.cat(chunks, dim=1)
    return block.finish(x_dst, heads_to_nodes(attended, run.dst_sizes, run.comm))


def _attend_part(mapper: Any, part: DestinationPart, heads: slice, query: Tensor, key: Tensor,
                 value: Tensor) -> Tensor:
    block: GraphTransformerBlock = mapper.block
    edge = block.edge_features(mapper.edge_embedding(part.edges.edge_attr), heads)
    return block.attend(query[:, part.dst], key.index_select(1, part.src_ids), value.index_select(1, part.src_ids),
                        edge, part.edges.attention_index())


@dataclass
class ProcessorRun:
    """How a processor runs on one rank of a model group."""

    comm: Comm
    sizes: tuple[int, ...]  # hidden nodes per rank
    part: DestinationPart | None  # the rank's destinations and their edges (graph processors, by nodes)
    heads: slice | None = None  # this rank's heads (attention blocks under shard = heads)

    @property
    def offset(self) -> int:
        return sum(self.sizes[:self.comm.rank])


def processor_run(processor: Any, comm: Comm, strategy: str, sizes: tuple[int, ...], heads: int) -> ProcessorRun:
    blocks = list(processor.blocks)
    attends = any(isinstance(b, (GraphTransformerBlock, TransformerBlock)) for b in blocks)
    by_heads = slice(comm.rank * (heads // comm.size), (comm.rank + 1) * (heads // comm.size)) \
        if pick(SPLITS_HEADS, strategy, "shard strategy") and attends else None
    edges = getattr(processor, "edges", None)
    mine = _range(sizes, comm.rank)
    part = parts_of(edges, mine.start, mine.stop, 1)[0] if edges is not None and by_heads is None else None
    return ProcessorRun(comm, sizes, part, by_heads)


def run_graph_processor(processor: Any, x: Tensor, run: ProcessorRun) -> Tensor:
    """A ``GraphProcessor``'s blocks on this rank's hidden nodes ``x`` (B, n, C)."""
    if run.heads is not None:  # GraphTransformer blocks: every rank keeps the whole edge set, a block of heads
        edges: EdgeSet = processor.edges
        edge_latent = processor.edge_embedding(edges.edge_attr)
        for block in processor.blocks:
            x = run_block(functools.partial(_graph_block_by_heads, block, run, edges), processor.checkpointing,
                          x, edge_latent)
        return x
    assert run.part is not None
    part = run.part.like(processor.edges)
    edge_latent = processor.edge_embedding(part.edges.edge_attr)
    for block in processor.blocks:
        halo = gather(x, 1, run.sizes, run.comm).index_select(1, part.src_ids)
        x, edge_latent = run_block(block, processor.checkpointing, halo, x, edge_latent, part.edges)
    return x


def _graph_block_by_heads(block: GraphTransformerBlock, run: ProcessorRun, edges: EdgeSet, x: Tensor,
                          edge_latent: Tensor) -> Tensor:
    assert run.heads is not None
    query, key, value = (nodes_to_heads(t, run.sizes, run.comm) for t in block.project(x, x))
    attended = block.attend(query, key, value, block.edge_features(edge_latent, run.heads), edges.attention_index())
    return block.finish(x, heads_to_nodes(attended, run.sizes, run.comm))


def run_sequence_processor(processor: Any, x: Tensor, run: ProcessorRun) -> Tensor:
    """Transformer or point-wise blocks on this rank's hidden nodes ``x`` (B, n, C)."""
    for block in processor.blocks:
        if isinstance(block, TransformerBlock):
            x = run_block(functools.partial(_transformer_block, block, run), processor.checkpointing, x)
        else:  # point-wise: nothing to exchange
            x = run_block(block, processor.checkpointing, x)
    return x


def _transformer_block(block: TransformerBlock, run: ProcessorRun, x: Tensor) -> Tensor:
    query, key, value = block.qkv(x)  # (B, H, n, C)
    if run.heads is not None:
        query, key, value = (nodes_to_heads(t.transpose(1, 2), run.sizes, run.comm).transpose(1, 2)
                             for t in (query, key, value))
        attended = heads_to_nodes(block.attention(query, key, value).transpose(1, 2), run.sizes,
                                  run.comm).transpose(1, 2)
    else:  # by nodes: this rank's queries over every key and value
        key, value = (gather(t, 2, run.sizes, run.comm) for t in (key, value))
        attended = block.attention(query, key, value, offset=run.offset)
    return block.finish(x, attended)
