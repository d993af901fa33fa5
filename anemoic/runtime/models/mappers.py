"""Mappers: move latents between node sets (data -> hidden encoder, hidden -> data decoder).

A mapper is one GraphTransformer or GNN block over a bipartite edge set (the GNN embeds the edge
attributes first; the GraphTransformer block projects the raw attributes itself). Both node sets
arrive already embedded to ``channels``; the mapper updates the destination nodes only.
The same class serves as forward and backward mapper: only the edge set's direction differs.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from anemoic.plan.kinds import MapperKind
from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.gnn import GNNBlock
from anemoic.runtime.models.graph_transformer import GraphTransformerBlock
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.models.processors import run_block
from anemoic.runtime.registry import pick


class GraphMapper(nn.Module):
    """forward(x_src (B, N_src, C), x_dst (B, N_dst, C)) -> x_dst (B, N_dst, C)."""

    def __init__(
        self, edges: EdgeSet, block: nn.Module, channels: int, checkpointing: bool, embed_edges: bool = True
    ) -> None:
        super().__init__()
        self.edges = edges
        self.edge_embedding: nn.Module = nn.Linear(edges.attr_dim, channels) if embed_edges else nn.Identity()
        self.block = block
        self.checkpointing = checkpointing

    def forward(self, x_src: Tensor, x_dst: Tensor) -> Tensor:
        if x_src.shape[1] != self.edges.num_src or x_dst.shape[1] != self.edges.num_dst:
            raise ValueError(
                f"mapper expects {self.edges.num_src} source and {self.edges.num_dst} destination nodes, "
                f"got {x_src.shape[1]} and {x_dst.shape[1]}"
            )
        edge_latent = self.edge_embedding(self.edges.edge_attr)
        x_dst, _ = run_block(self.block, self.checkpointing, x_src, x_dst, edge_latent, self.edges)
        return x_dst


def _graph_transformer(edges: EdgeSet, channels: int, heads: int, kernels: LayerKernels, backend: str,
                       checkpointing: bool) -> GraphMapper:
    block = GraphTransformerBlock(channels, heads, kernels, backend, edge_dim=edges.attr_dim)
    return GraphMapper(edges, block, channels, checkpointing, embed_edges=False)


def _gnn(edges: EdgeSet, channels: int, heads: int, kernels: LayerKernels, backend: str,
         checkpointing: bool) -> GraphMapper:
    return GraphMapper(edges, GNNBlock(channels, kernels), channels, checkpointing)


MAPPER_BUILDERS: dict[MapperKind, Callable[[EdgeSet, int, int, LayerKernels, str, bool], GraphMapper]] = {
    "graphtransformer": _graph_transformer, "gnn": _gnn,
}


def build_mapper(
    kind: str,
    *,
    edges: EdgeSet,
    channels: int,
    heads: int,
    kernels: LayerKernels,
    backend: str = "auto",
    checkpointing: bool = False,
) -> GraphMapper:
    """The mapper named by ``ModelPlan.encoder`` / ``ModelPlan.decoder``."""
    return pick(MAPPER_BUILDERS, kind, "mapper")(edges, channels, heads, kernels, backend, checkpointing)
