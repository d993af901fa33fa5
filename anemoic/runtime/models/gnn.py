"""GNN block: message passing with an edge MLP and a node MLP (interaction-network style).

Each edge computes a message from its source, its destination and its own latent; the
destination sums its incoming messages; both edges and nodes keep a residual. Summation
(``index_add``) keeps the block equivariant to any consistent relabelling of nodes and edges.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.layers import LayerKernels


class GNNBlock(nn.Module):
    """forward(x_src, x_dst, edge_latent, edges) -> (x_dst, edge_latent), both updated with residuals.

    x_src (B, N_src, C), x_dst (B, N_dst, C), edge_latent (E, C) or (B, E, C); the returned edge
    latent is always batched (B, E, C) because messages depend on the sample.
    """

    def __init__(self, channels: int, kernels: LayerKernels) -> None:
        super().__init__()
        self.edge_mlp = nn.Sequential(kernels.make_mlp(3 * channels, channels, hidden=channels),
                                      kernels.make_norm(channels))
        self.node_mlp = nn.Sequential(kernels.make_mlp(2 * channels, channels, hidden=channels),
                                      kernels.make_norm(channels))

    def forward(self, x_src: Tensor, x_dst: Tensor, edge_latent: Tensor, edges: EdgeSet) -> tuple[Tensor, Tensor]:
        batch = x_dst.shape[0]
        if edge_latent.dim() == 2:
            edge_latent = edge_latent.unsqueeze(0).expand(batch, -1, -1)
        senders = x_src.index_select(1, edges.src)
        receivers = x_dst.index_select(1, edges.dst)
        messages = self.edge_mlp(torch.cat([senders, receivers, edge_latent], dim=-1))
        inbox = torch.zeros(
            (batch, x_dst.shape[1], messages.shape[-1]), dtype=messages.dtype, device=messages.device
        ).index_add(1, edges.dst, messages)
        x_dst = x_dst + self.node_mlp(torch.cat([x_dst, inbox.to(x_dst.dtype)], dim=-1))
        return x_dst, edge_latent + messages
