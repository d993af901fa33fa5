"""Graph attention with edge features: fused Triton kernel on CUDA, PyTorch reference elsewhere.

Imports only torch (triton is imported on first use of the Triton backend), so this package loads
on machines without a GPU or without a working triton.
"""

from __future__ import annotations

import os

from torch import Tensor

from anemoic.kernels.index import GraphAttentionIndex, build_csc_index
from anemoic.kernels.reference import reference_graph_attention

BACKENDS = ("auto", "triton", "reference")

__all__ = ["BACKENDS", "GraphAttentionIndex", "build_csc_index", "graph_attention", "resolve_backend"]


def graph_attention(
    q: Tensor, k: Tensor, v: Tensor, e: Tensor, index: GraphAttentionIndex, *, backend: str = "auto"
) -> Tensor:
    """Attention of each destination over its incoming edges.

    q (N_dst, H, C); k, v (N_src, H, C); e (E, H, C) in the index's destination-sorted edge order.
    Returns (N_dst, H, C) in q's dtype: out_j = sum_i alpha_ij (v_i + e_ij) with
    alpha_ij = softmax over incoming edges of q_j.(k_i + e_ij) / sqrt(C); zero in-degree gives zeros.
    backend: "auto" (Triton on CUDA, reference elsewhere) | "triton" | "reference".
    """
    _check_shapes(q, k, v, e, index)
    if resolve_backend(backend, q) == "reference":
        return reference_graph_attention(q, k, v, e, index)
    from anemoic.kernels.op import triton_graph_attention

    return triton_graph_attention(q, k, v, e, index)


def resolve_backend(backend: str, like: Tensor) -> str:
    """The backend that runs for tensors like ``like``: "triton" or "reference"."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown attention backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "reference":
        return "reference"
    on_cuda = like.is_cuda
    if backend == "auto":
        return "triton" if on_cuda and _triton_importable() else "reference"
    if not on_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError(
            "attention backend 'triton' needs CUDA tensors (or TRITON_INTERPRET=1 for the CPU interpreter); "
            "use backend 'auto' or 'reference' on this machine"
        )
    if not _triton_importable():
        raise ValueError("attention backend 'triton' needs the triton package, which cannot be imported here")
    return "triton"


def _triton_importable() -> bool:
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _check_shapes(q: Tensor, k: Tensor, v: Tensor, e: Tensor, index: GraphAttentionIndex) -> None:
    if q.dim() != 3:
        raise ValueError(f"q must be (N_dst, H, C), got shape {tuple(q.shape)}")
    _, heads, channels = q.shape
    expected = {
        "q": (index.num_dst, heads, channels),
        "k": (index.num_src, heads, channels),
        "v": (index.num_src, heads, channels),
        "e": (index.num_edges, heads, channels),
    }
    for name, tensor in zip("qkve", (q, k, v, e)):
        if tuple(tensor.shape) != expected[name]:
            raise ValueError(f"{name} must have shape {expected[name]} for this index, got {tuple(tensor.shape)}")
        if tensor.dtype != q.dtype or tensor.device != q.device:
            raise ValueError(f"q, k, v and e must share dtype and device; {name} is {tensor.dtype} on {tensor.device}")
    if index.device != q.device:
        raise ValueError(f"the index is on {index.device} but the tensors are on {q.device}; call index.to(device)")
