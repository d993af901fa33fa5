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
from anemoic.runtime.models.sharded import MapperRun, mapper_run, run_block, run_mapper
from anemoic.runtime.distributed.collectives import Comm
from anemoic.runtime.registry import pick


class GraphMapper(nn.Module):
    """forward(x_src (B, N_src, C), x_dst (B, N_dst, C)) -> x_dst (B, N_dst, C).

    With ``num_chunks`` > 1 the destinations are computed in that many parts, one after another, each
    recomputed on backward (``models.sharded``); in a sharded model group, only this rank's nodes.
    """

    def __init__(
        self, edges: EdgeSet, block: nn.Module, channels: int, checkpointing: bool, embed_edges: bool = True,
        num_chunks: int = 1,
    ) -> None:
        super().__init__()
        if num_chunks < 1:
            raise ValueError(f"num_chunks must be at least 1, got {num_chunks}")
        self.edges = edges
        self.edge_embedding: nn.Module = nn.Linear(edges.attr_dim, channels) if embed_edges else nn.Identity()
        self.block = block
        self.checkpointing = checkpointing
        self.num_chunks = num_chunks
        self.run: MapperRun | None = None
        self.unshard()

    def unshard(self) -> None:
        """Back to the whole graph on this process (in chunks when ``num_chunks`` > 1)."""
        self.run = mapper_run(self, Comm.alone(), "edges", (self.edges.num_src,), (self.edges.num_dst,)) \
            if self.num_chunks > 1 else None

    def forward(self, x_src: Tensor, x_dst: Tensor) -> Tensor:
        if self.run is not None and self.run.comm.size > 1:
            return run_mapper(self, x_src, x_dst, self.run)
        if x_src.shape[1] != self.edges.num_src or x_dst.shape[1] != self.edges.num_dst:
            raise ValueError(
                f"mapper expects {self.edges.num_src} source and {self.edges.num_dst} destination nodes, "
                f"got {x_src.shape[1]} and {x_dst.shape[1]}"
            )
        if self.run is not None:
            return run_mapper(self, x_src, x_dst, self.run)
        edge_latent = self.edge_embedding(self.edges.edge_attr)
        x_dst, _ = run_block(self.block, self.checkpointing, x_src, x_dst, edge_latent, self.edges)
        return x_dst


def _graph_transformer(edges: EdgeSet, channels: int, heads: int, kernels: LayerKernels, backend: str,
                       checkpointing: bool, num_chunks: int) -> GraphMapper:
    block = GraphTransformerBlock(channels, heads, kernels, backend, edge_dim=edges.attr_dim)
    return GraphMapper(edges, block, channels, checkpointing, embed_edges=False, num_chunks=num_chunks)


def _gnn(edges: EdgeSet, channels: int, heads: int, kernels: LayerKernels, backend: str,
         checkpointing: bool, num_chunks: int) -> GraphMapper:
    return GraphMapper(edges, GNNBlock(channels, kernels), channels, checkpointing, num_chunks=num_chunks)


MAPPER_BUILDERS: dict[MapperKind, Callable[[EdgeSet, int, int, LayerKernels, str, bool, int], GraphMapper]] = {
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
    num_chunks: int = 1,
) -> GraphMapper:
    """The mapper named by ``ModelPlan.encoder`` / ``ModelPlan.decoder``."""
    return pick(MAPPER_BUILDERS, kind, "mapper")(edges, channels, heads, kernels, backend, checkpointing, num_chunks)
