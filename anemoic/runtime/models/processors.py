"""Processors: a stack of blocks over the hidden nodes, each optionally gradient-checkpointed.

``graphtransformer`` and ``gnn`` pass messages over the hidden -> hidden edges; ``transformer``
attends over the hidden nodes as a sequence; ``mlp`` transforms each node on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.gnn import GNNBlock
from anemoic.runtime.models.graph_transformer import GraphTransformerBlock
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.models.transformer import TransformerBlock

PROCESSORS = ("graphtransformer", "gnn", "transformer", "mlp")


def run_block(block: Callable[..., object], checkpointing: bool, *args: object) -> object:
    """Call ``block``; with checkpointing, keep only its inputs and recompute inside on backward."""
    if checkpointing and torch.is_grad_enabled():
        return checkpoint(block, *args, use_reentrant=False)
    return block(*args)


class GraphProcessor(nn.Module):
    """Blocks that pass messages over one edge set.

    With ``embed_edges`` (GNN: edge latents evolve from block to block) the attributes are embedded
    to ``channels`` once per call; without (GraphTransformer) each block projects the raw attributes.
    """

    def __init__(
        self, edges: EdgeSet, blocks: list[nn.Module], channels: int, checkpointing: bool, embed_edges: bool = True
    ) -> None:
        super().__init__()
        self.edges = edges
        self.edge_embedding: nn.Module = nn.Linear(edges.attr_dim, channels) if embed_edges else nn.Identity()
        self.blocks = nn.ModuleList(blocks)
        self.checkpointing = checkpointing

    def forward(self, x: Tensor) -> Tensor:
        edge_latent = self.edge_embedding(self.edges.edge_attr)
        for block in self.blocks:
            x, edge_latent = run_block(block, self.checkpointing, x, x, edge_latent, self.edges)
        return x


class PointwiseBlock(nn.Module):
    """x + MLP(norm(x)) on each node independently."""

    def __init__(self, channels: int, kernels: LayerKernels) -> None:
        super().__init__()
        self.norm = kernels.make_norm(channels)
        self.mlp = kernels.make_mlp(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.mlp(self.norm(x))


class SequenceProcessor(nn.Module):
    """Blocks that see the hidden nodes only (no edges): transformer or point-wise MLP."""

    def __init__(self, blocks: list[nn.Module], checkpointing: bool) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)
        self.checkpointing = checkpointing

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = run_block(block, self.checkpointing, x)
        return x


def build_processor(
    kind: str,
    *,
    edges: EdgeSet,
    channels: int,
    layers: int,
    heads: int,
    kernels: LayerKernels,
    window_size: int | None = None,
    backend: str = "auto",
    checkpointing: bool = False,
) -> nn.Module:
    """The processor named by ``ModelPlan.processor``, over the hidden -> hidden ``edges``."""
    if kind == "graphtransformer":
        blocks = [GraphTransformerBlock(channels, heads, kernels, backend, bipartite=False, edge_dim=edges.attr_dim)
                  for _ in range(layers)]
        return GraphProcessor(edges, blocks, channels, checkpointing, embed_edges=False)
    if kind == "gnn":
        return GraphProcessor(edges, [GNNBlock(channels, kernels) for _ in range(layers)], channels, checkpointing)
    if kind == "transformer":
        blocks = [TransformerBlock(channels, heads, kernels, window_size) for _ in range(layers)]
        return SequenceProcessor(blocks, checkpointing)
    if kind == "mlp":
        return SequenceProcessor([PointwiseBlock(channels, kernels) for _ in range(layers)], checkpointing)
    raise ValueError(f"unknown processor {kind!r}; choose one of {', '.join(PROCESSORS)}")
