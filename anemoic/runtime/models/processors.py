"""Processors: a stack of blocks over the hidden nodes, each optionally gradient-checkpointed.

``graphtransformer`` and ``gnn`` pass messages over the hidden -> hidden edges; ``transformer``
attends over the hidden nodes as a sequence; ``mlp`` transforms each node on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor, nn

from anemoic.plan.kinds import ProcessorKind
from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.gnn import GNNBlock
from anemoic.runtime.models.graph_transformer import GraphTransformerBlock
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.models.sharded import ProcessorRun, run_block, run_graph_processor, run_sequence_processor
from anemoic.runtime.models.transformer import TransformerBlock
from anemoic.runtime.registry import pick

__all__ = ["PROCESSOR_BUILDERS", "GraphProcessor", "SequenceProcessor", "build_processor", "run_block"]


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
        self.run: ProcessorRun | None = None  # set while the model is sharded (models.sharded)

    def forward(self, x: Tensor) -> Tensor:
        if self.run is not None:
            return run_graph_processor(self, x, self.run)
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
        self.run: ProcessorRun | None = None  # set while the model is sharded (models.sharded)

    def forward(self, x: Tensor) -> Tensor:
        if self.run is not None:
            return run_sequence_processor(self, x, self.run)
        for block in self.blocks:
            x = run_block(block, self.checkpointing, x)
        return x


@dataclass(frozen=True)
class ProcessorArgs:
    """What every processor builder is given (from ``ModelPlan``); each takes what it needs."""

    edges: EdgeSet  # hidden -> hidden
    channels: int
    layers: int
    heads: int
    kernels: LayerKernels
    window_size: int | None = None
    backend: str = "auto"
    checkpointing: bool = False


def _graph_transformer(a: ProcessorArgs) -> nn.Module:
    blocks = [GraphTransformerBlock(a.channels, a.heads, a.kernels, a.backend, bipartite=False,
                                    edge_dim=a.edges.attr_dim) for _ in range(a.layers)]
    return GraphProcessor(a.edges, blocks, a.channels, a.checkpointing, embed_edges=False)


def _gnn(a: ProcessorArgs) -> nn.Module:
    return GraphProcessor(a.edges, [GNNBlock(a.channels, a.kernels) for _ in range(a.layers)], a.channels,
                          a.checkpointing)


def _transformer(a: ProcessorArgs) -> nn.Module:
    blocks = [TransformerBlock(a.channels, a.heads, a.kernels, a.window_size) for _ in range(a.layers)]
    return SequenceProcessor(blocks, a.checkpointing)


def _mlp(a: ProcessorArgs) -> nn.Module:
    return SequenceProcessor([PointwiseBlock(a.channels, a.kernels) for _ in range(a.layers)], a.checkpointing)


PROCESSOR_BUILDERS: dict[ProcessorKind, Callable[[ProcessorArgs], nn.Module]] = {
    "graphtransformer": _graph_transformer, "gnn": _gnn, "transformer": _transformer, "mlp": _mlp,
}


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
    args = ProcessorArgs(edges, channels, layers, heads, kernels, window_size, backend, checkpointing)
    return pick(PROCESSOR_BUILDERS, kind, "processor")(args)
