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
        return self.finish(x, self.attention(*self.qkv(x)))

    # The steps of ``forward``; a sharded model group exchanges keys and values, or heads, in between
    # (``runtime.models.sharded``).

    def qkv(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values ``(B, H, N, C_head)`` of the nodes ``x`` (B, N, C)."""
        query, key, value = self.to_qkv(self.norm_attention(x)).chunk(3, dim=-1)
        query, key, value = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (query, key, value))
        return self.query_norm(query), self.key_norm(key), value

    def attention(self, query: Tensor, key: Tensor, value: Tensor, offset: int = 0) -> Tensor:
        """Queries at positions ``offset ..`` of the key sequence attend over it (window: only nearby keys)."""
        if self.window_size is None:
            return F.scaled_dot_product_attention(query, key, value)
        return sliding_window_attention(query, key, value, self.window_size, offset)

    def finish(self, x: Tensor, attended: Tensor) -> Tensor:
        x = x + self.projection(attended.transpose(1, 2).flatten(-2))
        return x + self.mlp(self.norm_mlp(x))


def sliding_window_attention(query: Tensor, key: Tensor, value: Tensor, window_size: int, offset: int = 0) -> Tensor:
    """Attention of position i over positions j with |i - j| <= window_size // 2.

    query (B, H, N_q, C) at positions ``offset .. offset + N_q - 1`` of key/value (B, H, N, C) -> (B, H, N_q, C)
    (``offset`` > 0: a shard of the queries over all keys). Queries are cut into blocks of ``half``
    positions; block k sees the 3 ``half`` keys around it (zero-padded at both ends), masked to the exact band.
    """
    half = max(window_size // 2, 1)
    length, keys = query.shape[-2], key.shape[-2]
    blocks = -(-length // half)
    pad = blocks * half - length
    padded_q = F.pad(query, (0, 0, 0, pad)).unflatten(-2, (blocks, half))
    # keys padded by one block in front and as much as the last block needs behind, then windowed
    behind = max(offset + (blocks + 1) * half - keys, 0)
    span = slice(offset, offset + (blocks + 2) * half)
    padded_k = F.pad(key, (0, 0, half, behind))[..., span, :]
    padded_v = F.pad(value, (0, 0, half, behind))[..., span, :]
    window_k = padded_k.unfold(-2, 3 * half, half).transpose(-1, -2)  # (B, H, blocks, 3*half, C)
    window_v = padded_v.unfold(-2, 3 * half, half).transpose(-1, -2)
    mask = _band_mask(blocks, half, keys, query.device, offset)
    attended = F.scaled_dot_product_attention(padded_q, window_k, window_v, attn_mask=mask)
    return attended.flatten(-3, -2)[..., :length, :]


def _band_mask(blocks: int, half: int, length: int, device: torch.device, offset: int = 0) -> Tensor:
    """(blocks, half, 3*half) bool: True where key position is real and within the band."""
    query_pos = offset + (torch.arange(blocks, device=device) * half).view(-1, 1, 1) + torch.arange(
        half, device=device).view(1, -1, 1)
    key_pos = offset + (torch.arange(blocks, device=device) * half - half).view(-1, 1, 1) + torch.arange(
        3 * half, device=device
    ).view(1, 1, -1)
    within = (query_pos - key_pos).abs() <= half
    real = (key_pos >= 0) & (key_pos < length)
    # No row is all-masked: a real query sees itself, and a padded one (fewer than `half` past the last
    # query, which is at most the last key) still has the last key in its band.
    return within & real
