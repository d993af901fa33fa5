"""The cached compiled-kernel launch (anemoic.kernels.fast_launch) computes exactly what triton's JIT launch does."""

from __future__ import annotations

import pytest
import torch

from anemoic.kernels import build_csc_index, fast_launch, graph_attention
from tests.kernels.graphs import local_graph, random_inputs


def _fwd_bwd(inputs: list[torch.Tensor], grad: torch.Tensor, index) -> list[torch.Tensor]:  # noqa: ANN001
    leaves = [t.detach().requires_grad_() for t in inputs]
    out = graph_attention(*leaves, index, backend="triton")
    return [out.detach(), *torch.autograd.grad(out, leaves, grad)]


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(("num_src", "num_dst", "neighbours"), [(600, 200, 7), (100, 400, 3)])
def test_cached_launches_equal_jit_launches_bitwise(
    num_src: int, num_dst: int, neighbours: int, dtype: torch.dtype
) -> None:
    """Both graphs take edge pairs somewhere: in-degree 7 (forward), out-degree 12 (source pass)."""
    edges = local_graph(num_src, num_dst, neighbours)
    index = build_csc_index(edges, num_src, num_dst).to("cuda")
    inputs = random_inputs((num_src, num_dst, edges.shape[1]), 5, 24, dtype, "cuda", seed=21)
    grad = torch.randn_like(inputs[0])
    try:
        fast_launch.ENABLED = False
        expected = _fwd_bwd(inputs, grad, index)
        fast_launch.ENABLED = True
        results = [_fwd_bwd(inputs, grad, index) for _ in range(3)]  # first compiles/caches, then cached launches
    finally:
        fast_launch.ENABLED = True
    for result in results:
        for want, got in zip(expected, result):
            assert torch.equal(want, got)


@pytest.mark.gpu
def test_misaligned_views_take_the_jit_path_and_stay_correct() -> None:
    edges = local_graph(64, 32, 4)
    index = build_csc_index(edges, 64, 32).to("cuda")
    q, k, v, e = random_inputs((64, 32, edges.shape[1]), 1, 3, torch.float32, "cuda", seed=22)
    aligned = graph_attention(q, k, v, e, index, backend="triton")
    padded = torch.cat([torch.zeros(1, 1, 3, device="cuda"), q])[1:]  # 12-byte offset: not 16-byte aligned
    assert padded.data_ptr() % 16
    for _ in range(2):
        torch.testing.assert_close(graph_attention(padded, k, v, e, index, backend="triton"), aligned)
