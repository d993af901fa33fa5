"""Transformer block over the hidden nodes in their fixed order, with sliding-window attention.

The hidden nodes are a sequence (the graph builder's order, which follows the mesh so that
neighbours in the sequence are mostly neighbours on the sphere). With ``window_size`` w each
node attends to the nodes at most w // 2 positions away; without it, to all nodes. The window
is computed block-locally (each block of w // 2 queries looks at its own and the two
neighbouring key blocks) so memory grows linearly with the number of nodes, not quadratically.
This block is not permutation-equivariant by design: the order *is* its notion of locality.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anemoic.runtime.models.layers import LayerKernels, QKNorm


class TransformerBlock(nn.Module):
    """forward(x (B, N, C)) -> (B, N, C): pre-norm attention + MLP, both residual."""

    def __init__(self, channels: int, heads: int, kernels: LayerKernels, window_size: int | None) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if window_size is not None and window_size < 1:
            raise ValueError(f"window_size must be positive, got {window_size}")
        self.heads = heads
        self.window_size = window_size
        self.norm_attention = kernels.make_norm(channels)
        self.to_qkv = nn.Linear(channels, 3 * channels)
        self.query_norm = QKNorm(kernels, channels // heads)
        self.key_norm = QKNorm(kernels, channels // heads)
        self.projection = nn.Linear(channels, channels)
        self.norm_mlp = kernels.make_norm(channels)
        self.mlp = kernels.make_mlp(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        query, key, value = self.to_qkv(self.norm_attention(x)).chunk(3, dim=-1)
        # (B, N, C) -> (B, H, N, C_head)
        query, key, value = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (query, key, value))
        query, key = self.query_norm(query), self.key_norm(key)
        if self.window_size is None:
            attended = F.scaled_dot_product_attention(query, key, value)
        else:
            attended = sliding_window_attention(query, key, value, self.window_size)
        x = x + self.projection(attended.transpose(1, 2).flatten(-2))
        return x + self.mlp(self.norm_mlp(x))


def sliding_window_attention(query: Tensor, key: Tensor, value: Tensor, window_size: int) -> Tensor:
    """Attention of position i over positions j with |i - j| <= window_size // 2.

    query/key/value (B, H, N, C) -> (B, H, N, C). Queries are cut into blocks of ``half`` positions;
    block k sees key blocks k-1, k, k+1 (zero-padded at both ends), masked to the exact band.
    """
    half = max(window_size // 2, 1)
    length = query.shape[-2]
    blocks = -(-length // half)
    pad = blocks * half - length
    padded_q = F.pad(query, (0, 0, 0, pad)).unflatten(-2, (blocks, half))
    # keys padded by one block in front and one (plus the remainder) behind, then windowed
    padded_k = F.pad(key, (0, 0, half, half + pad))
    padded_v = F.pad(value, (0, 0, half, half + pad))
    window_k = padded_k.unfold(-2, 3 * half, half).transpose(-1, -2)  # (B, H, blocks, 3*half, C)
    window_v = padded_v.unfold(-2, 3 * half, half).transpose(-1, -2)
    mask = _band_mask(blocks, half, length, query.device)
    attended = F.scaled_dot_product_attention(padded_q, window_k, window_v, attn_mask=mask)
    return attended.flatten(-3, -2)[..., :length, :]


def _band_mask(blocks: int, half: int, length: int, device: torch.device) -> Tensor:
    """(blocks, half, 3*half) bool: True where key position is real and within the band."""
    query_pos = (torch.arange(blocks, device=device) * half).view(-1, 1, 1) + torch.arange(half, device=device).view(
        1, -1, 1
    )
    key_pos = (torch.arange(blocks, device=device) * half - half).view(-1, 1, 1) + torch.arange(
        3 * half, device=device
    ).view(1, 1, -1)
    within = (query_pos - key_pos).abs() <= half
    real = (key_pos >= 0) & (key_pos < length)
    # No row is all-masked: a real query sees itself, and a padded one (fewer than `half` past the end)
    # still has position length - 1 in its band.
    return within & real
