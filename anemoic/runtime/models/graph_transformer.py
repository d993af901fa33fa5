"""GraphTransformer block: destination nodes attend over their incoming edges.

Edge features are added to keys and values (``anemoic.kernels.graph_attention``), so the
geometry of each edge shapes both where a node looks and what it receives. The same block
serves the processor (hidden -> hidden) and the mappers (data <-> hidden).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from anemoic.kernels import BACKENDS, GraphAttentionIndex, graph_attention
from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.layers import LayerKernels, QKNorm


class GraphTransformerBlock(nn.Module):
    """Pre-norm multi-head edge attention and MLP, each with a residual on the destination nodes.

    forward(x_src (B, N_src, C), x_dst (B, N_dst, C), edge_latent (E, F) or (B, E, F), edges)
    -> (x_dst (B, N_dst, C), edge_latent unchanged). A processor block (``bipartite=False``) takes
    the same tensor as ``x_src`` and ``x_dst``, normalises it once and has no source norm (so no
    parameter goes unused, which distributed data parallel would reject). ``edge_dim`` F: width of the
    edge features given (the raw attributes, as in Anemoi: projecting 3 numbers per block is far cheaper
    than carrying a C-wide edge latent through every block); default C.
    """

    def __init__(
        self,
        channels: int,
        heads: int,
        kernels: LayerKernels,
        backend: str = "auto",
        bipartite: bool = True,
        edge_dim: int | None = None,
    ) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if backend not in BACKENDS:
            raise ValueError(f"unknown attention backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.heads = heads
        self.head_channels = channels // heads
        self.backend = backend
        self.norm_src: nn.Module | None = kernels.make_norm(channels) if bipartite else None
        self.norm_dst = kernels.make_norm(channels)
        self.to_query = nn.Linear(channels, channels)
        self.to_key_value = nn.Linear(channels, 2 * channels)
        self.to_edge = nn.Linear(edge_dim or channels, channels)
        self.query_norm = QKNorm(kernels, self.head_channels)
        self.key_norm = QKNorm(kernels, self.head_channels)
        self.projection = nn.Linear(channels, channels)
        self.norm_mlp = kernels.make_norm(channels)
        self.mlp = kernels.make_mlp(channels, channels)

    def forward(self, x_src: Tensor, x_dst: Tensor, edge_latent: Tensor, edges: EdgeSet) -> tuple[Tensor, Tensor]:
        query, key, value = self.project(x_src, x_dst)
        attended = self.attend(query, key, value, self.edge_features(edge_latent), edges.attention_index())
        return self.finish(x_dst, attended), edge_latent

    # The steps of ``forward``, which a model group sharded by heads runs with exchanges in between
    # (``runtime.models.sharded``): project on the rank's nodes, attend on its heads, finish on its nodes.

    def project(self, x_src: Tensor, x_dst: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries of the destinations, keys and values of the sources, each ``(B, N, H, C_head)``.

        A processor block normalises its nodes once when sources and destinations are the same tensor; a
        shard's sources (its halo) are other rows of the same nodes, normalised with the same norm.
        """
        dst_normed = self.norm_dst(x_dst)
        if self.norm_src is not None:
            src_normed = self.norm_src(x_src)
        else:
            src_normed = dst_normed if x_src is x_dst else self.norm_dst(x_src)
        query = self.query_norm(self._split_heads(self.to_query(dst_normed)))
        key, value = self.to_key_value(src_normed).chunk(2, dim=-1)
        return query, self.key_norm(self._split_heads(key)), self._split_heads(value)

    def edge_features(self, edge_latent: Tensor, heads: slice | None = None) -> Tensor:
        """``(E, H, C_head)`` (or batched) edge features; ``heads``: only those heads' channels."""
        if heads is None:
            return self._split_heads(self.to_edge(edge_latent))
        rows = slice(heads.start * self.head_channels, heads.stop * self.head_channels)
        projected = nn.functional.linear(edge_latent, self.to_edge.weight[rows], self.to_edge.bias[rows])
        return projected.unflatten(-1, (heads.stop - heads.start, self.head_channels))

    def attend(self, query: Tensor, key: Tensor, value: Tensor, edge: Tensor, index: GraphAttentionIndex) -> Tensor:
        """``(B, N_dst, H, C_head)``: each destination's attention over its incoming edges, sample by sample."""
        dtype = torch.promote_types(query.dtype, edge.dtype)
        edge = edge.to(dtype)
        return torch.stack(
            [
                graph_attention(
                    query[b].to(dtype), key[b].to(dtype), value[b].to(dtype), edge if edge.dim() == 3 else edge[b],
                    index, backend=self.backend,
                )
                for b in range(query.shape[0])
            ]
        )

    def finish(self, x_dst: Tensor, attended: Tensor) -> Tensor:
        """Output projection and MLP, each with a residual on the destinations."""
        x_dst = x_dst + self.projection(attended.flatten(-2).to(x_dst.dtype))
        return x_dst + self.mlp(self.norm_mlp(x_dst))

    def _split_heads(self, x: Tensor) -> Tensor:
        return x.unflatten(-1, (self.heads, self.head_channels))
