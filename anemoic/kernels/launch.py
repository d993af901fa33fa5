"""Host side of the Triton kernels: tile sizes per shape and the three launches (no host syncs)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import triton.language as tl
from torch import Tensor

from anemoic.kernels import fast_launch
from anemoic.kernels import triton_kernels as kernels

_ACC_DTYPES = {torch.float64: tl.float64}


@dataclass(frozen=True)
class TileConfig:
    """Edges per iteration, heads per program and warps: chosen from H, C alone (no autotuning at run time)."""

    block_e: int
    block_h: int
    block_c: int
    num_warps: int
    num_stages: int = 1
    prefetch: bool = True  # load the next block's index entries one iteration ahead
    reuse_policy: str = ""  # eviction hint for gathered rows: "" | "evict_last" | "evict_first"
    stream_policy: str = ""  # eviction hint for rows touched once
    pair: bool = False  # two edges per iteration as two 2-D tiles (block_e is then unused)

    def constants(self) -> dict:
        """The kernels' compile-time tile parameters."""
        return {
            "BLOCK_E": self.block_e, "BLOCK_H": self.block_h, "BLOCK_C": self.block_c,
            "PREFETCH": self.prefetch, "REUSE": self.reuse_policy, "STREAM": self.stream_policy, "PAIR": self.pair,
        }  # fmt: skip


@functools.lru_cache(maxsize=64)
def tile_config(
    heads: int, channels: int, pass_name: str, long_lists: bool = False, large_sources: bool = False
) -> TileConfig:
    """All heads of a node in one program, 4 warps (16-byte loads per thread); edges one or two at a time.

    Chosen from H100 sweeps (benchmarks/gpu/sweep_tiles.py, docs/kernels.md) on the o96 graphs (mean
    degree 1.5-12). A 3-D tile of several edges (BLOCK_E > 1) was never faster, its cross-edge
    reduction costing what the extra gathers in flight gain; edge pairs held as two 2-D tiles
    (``pair``) helped where the walked lists are long (``long_lists``: a mean of 5+ incoming edges in
    the forward, 10+ outgoing edges in the source pass: -0.6 to -2% and -6%) and cost 3-14% on short
    ones. The destination pass keeps single edges (pairs: -1% on era_to_h, +1 to +6% elsewhere).
    ``large_sources``: k and v together exceed the L2 cache (o96 era_to_h: 165 MB of gathered rows);
    with long incoming lists (5+) the forward and destination passes then mark gathered k/v rows
    evict_last and streamed e/de rows evict_first: era_to_h -1% (o96) and -2.2% (n320) in kernel
    time, n320 h_to_h -0.4%; on short lists (h_to_era, 3 edges) they cost +0.8%, on L2-sized
    sources they were within +-1%.
    Rows wider than 1024 values are split over programs by heads to bound registers.
    """
    block_c = kernels.next_power_of_2(channels)
    block_h = kernels.next_power_of_2(heads)
    while block_h > 1 and block_h * block_c > 1024:
        block_h //= 2
    num_warps = 4 if block_h * block_c >= 512 else 2
    pair = long_lists and pass_name in ("fwd", "src")
    hints = {"reuse_policy": "evict_last", "stream_policy": "evict_first"}
    hinted = large_sources and long_lists and pass_name in ("fwd", "dst")
    return TileConfig(1, block_h, block_c, num_warps, pair=pair, **(hints if hinted else {}))


_L2_BYTES = 50 * 2**20  # H100 L2; a cut-off for the cache hints, not a correctness matter


def _large_sources(k: Tensor) -> bool:
    """k and v together (the gathered rows of the forward and destination passes) exceed L2."""
    return 2 * k.numel() * k.element_size() > _L2_BYTES


def _acc(dtype: torch.dtype) -> tl.dtype:
    return _ACC_DTYPES.get(dtype, tl.float32)


def _grid(nodes: int, heads: int, config: TileConfig) -> tuple[int, int]:
    return (nodes, math.ceil(heads / config.block_h))


def forward(
    q: Tensor, k: Tensor, v: Tensor, e: Tensor, colptr: Tensor, src: Tensor, config: TileConfig | None = None
) -> tuple[Tensor, Tensor]:
    """out (N_dst, H, C) in q's dtype and the base-2 log-sum-exp (N_dst, H) in the accumulation dtype.

    ``config`` overrides the tile choice (benchmark sweeps); normal calls leave it out.
    """
    num_dst, heads, channels = q.shape
    acc_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    out = torch.empty_like(q)
    lse = torch.empty((num_dst, heads), dtype=acc_dtype, device=q.device)
    if num_dst == 0:
        return out, lse
    config = config or tile_config(heads, channels, "fwd", src.shape[0] >= 5 * num_dst, _large_sources(k))
    scale_log2 = kernels.LOG2E / math.sqrt(channels)
    fast_launch.launch(
        kernels.attention_forward_kernel, _grid(num_dst, heads, config), config,
        (q, k, v, e, out, lse, colptr, src, scale_log2, heads, channels), _acc(q.dtype),
    )  # fmt: skip
    return out, lse


def backward_dst(
    grad_out: Tensor, q: Tensor, k: Tensor, v: Tensor, e: Tensor, out: Tensor, lse: Tensor,
    colptr: Tensor, src: Tensor, config: TileConfig | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """Destination pass: dq, de and the per-edge alpha and scaled d-score (E, H) for the source pass."""
    num_dst, heads, channels = q.shape
    dq, de = torch.empty_like(q), torch.empty_like(e)
    alpha = torch.empty((e.shape[0], heads), dtype=lse.dtype, device=q.device)
    d_score = torch.empty_like(alpha)
    if num_dst:
        config = config or tile_config(heads, channels, "dst", src.shape[0] >= 5 * num_dst, _large_sources(k))
        scale = 1.0 / math.sqrt(channels)
        fast_launch.launch(
            kernels.attention_backward_dst_kernel, _grid(num_dst, heads, config), config,
            (q, k, v, e, out, grad_out, lse, colptr, src, dq, de, alpha, d_score,
             scale, scale * kernels.LOG2E, heads, channels), _acc(q.dtype),
        )  # fmt: skip
    return dq, de, alpha, d_score


def backward_src(
    grad_out: Tensor, q: Tensor, k: Tensor, alpha: Tensor, d_score: Tensor,
    rev_ptr: Tensor, rev_perm: Tensor, rev_dst: Tensor, config: TileConfig | None = None,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Source pass: dk and dv from the destination pass's alpha and d-score, without atomics."""
    num_src, heads, channels = k.shape
    dk, dv = torch.empty_like(k), torch.empty_like(k)
    if num_src:
        config = config or tile_config(heads, channels, "src", alpha.shape[0] >= 10 * num_src)
        fast_launch.launch(
            kernels.attention_backward_src_kernel, _grid(num_src, heads, config), config,
            (q, grad_out, alpha, d_score, rev_ptr, rev_perm, rev_dst, dk, dv, heads, channels), _acc(q.dtype),
        )  # fmt: skip
    return dk, dv


def backward(
    grad_out: Tensor, q: Tensor, k: Tensor, v: Tensor, e: Tensor, out: Tensor, lse: Tensor,
    colptr: Tensor, src: Tensor, rev_ptr: Tensor, rev_perm: Tensor, rev_dst: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """dq, dk, dv, de: destination pass then source pass, deterministic."""
    grad_out = grad_out.contiguous()
    dq, de, alpha, d_score = backward_dst(grad_out, q, k, v, e, out, lse, colptr, src)
    dk, dv = backward_src(grad_out, q, k, alpha, d_score, rev_ptr, rev_perm, rev_dst)
    return dq, dk, dv, de
