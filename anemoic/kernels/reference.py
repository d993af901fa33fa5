"""Pure-PyTorch graph attention: the CPU path and the test oracle.

Scatter-softmax through ``scatter_reduce`` / ``index_add`` so autograd runs through plain torch
ops and ``torch.compile`` can fuse it. Materialises (E, H, C) tensors, which is what the fused
Triton kernel avoids.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from anemoic.kernels.index import GraphAttentionIndex


def reference_graph_attention(q: Tensor, k: Tensor, v: Tensor, e: Tensor, index: GraphAttentionIndex) -> Tensor:
    """out_j = sum_i softmax_i(q_j.(k_i + e_ij) / sqrt(C)) (v_i + e_ij); zero in-degree gives zeros.

    Half-precision inputs are computed in float32 and the result cast back, like the kernel.
    """
    out_dtype = q.dtype
    compute = torch.float64 if q.dtype == torch.float64 else torch.float32
    q, k, v, e = (t.to(compute) for t in (q, k, v, e))
    num_dst, heads, channels = q.shape
    src, dst = index.src, index.dst
    key = k.index_select(0, src) + e
    scores = (q.index_select(0, dst) * key).sum(dim=-1) / math.sqrt(channels)  # (E, H)
    dst_h = dst.unsqueeze(1).expand(-1, heads)
    # The running max only stabilises exp(); detaching it keeps the gradient exact and cheap.
    row_max = torch.full((num_dst, heads), -torch.inf, dtype=compute, device=q.device)
    row_max = row_max.scatter_reduce(0, dst_h, scores.detach(), reduce="amax", include_self=True)
    weights = torch.exp(scores - row_max.index_select(0, dst))
    denom = torch.zeros((num_dst, heads), dtype=compute, device=q.device).index_add(0, dst, weights)
    alpha = weights / denom.index_select(0, dst)
    value = v.index_select(0, src) + e
    out = torch.zeros((num_dst, heads, channels), dtype=compute, device=q.device)
    out = out.index_add(0, dst, alpha.unsqueeze(-1) * value)
    return out.to(out_dtype)
