"""Shared check: Triton backend output and gradients against the float64 reference."""

from __future__ import annotations

import torch
from torch import Tensor

from anemoic.kernels import GraphAttentionIndex, graph_attention
from anemoic.kernels.reference import reference_graph_attention

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
# float64 on the GPU: exp2/log2 run at float32 precision there.
TOLERANCE = {torch.float64: 1e-6, torch.float32: 2e-5, torch.float16: 4e-3, torch.bfloat16: 3e-2}


def run_with_grads(inputs: list[Tensor], grad_out: Tensor, index: GraphAttentionIndex, backend: str) -> list[Tensor]:
    """[out, dq, dk, dv, de] for one backward pass of sum(out * grad_out)."""
    cast = torch.float64 if backend == "oracle" else inputs[0].dtype
    leaves = [t.detach().to(cast).requires_grad_() for t in inputs]
    if backend == "oracle":
        out = reference_graph_attention(*leaves, index)
    else:
        out = graph_attention(*leaves, index, backend=backend)
    (out.double() * grad_out.double()).sum().backward()
    return [out.detach()] + [t.grad for t in leaves]


def assert_matches_oracle(inputs: list[Tensor], index: GraphAttentionIndex, seed: int = 0) -> None:
    dtype = inputs[0].dtype
    generator = torch.Generator().manual_seed(seed)
    grad_out = torch.randn(inputs[0].shape, generator=generator, dtype=torch.float64).to(inputs[0].device, dtype)
    got = run_with_grads(inputs, grad_out, index, "triton")
    want = run_with_grads(inputs, grad_out, index, "oracle")
    tol = TOLERANCE[dtype]
    for name, g, w in zip(("out", "dq", "dk", "dv", "de"), got, want):
        assert g.dtype == dtype, name
        w = w.to(dtype).double() if dtype in (torch.float16, torch.bfloat16) else w
        scale = max(float(w.abs().max()), 1.0)
        torch.testing.assert_close(g.double(), w, rtol=tol, atol=tol * scale, msg=lambda m, n=name: f"{n}: {m}")
