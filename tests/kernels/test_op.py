"""The custom ops: torch.library.opcheck and tracing by torch.compile without graph breaks."""

from __future__ import annotations

import pytest
import torch

import anemoic.kernels.op  # noqa: F401  (registers anemoic::graph_attention)
from anemoic.kernels import build_csc_index, graph_attention
from tests.kernels.graphs import random_graph, random_inputs
from tests.kernels.parity import DEVICE


def _case(dtype: torch.dtype = torch.float32, requires_grad: bool = True):  # noqa: ANN202
    edges = random_graph(num_src=7, num_dst=6, max_degree=4, seed=11, hubs=0)
    index = build_csc_index(edges, 7, 6).to(DEVICE)
    tensors = random_inputs((7, 6, edges.shape[1]), 3, 5, dtype, DEVICE, seed=12)
    return [t.requires_grad_(requires_grad) for t in tensors], index


def _index_args(index):  # noqa: ANN001, ANN202
    return (index.colptr, index.src, index.rev_ptr, index.rev_perm, index.rev_dst)


def test_forward_op_passes_opcheck() -> None:
    tensors, index = _case()
    torch.library.opcheck(torch.ops.anemoic.graph_attention.default, (*tensors, *_index_args(index)))


def test_backward_op_passes_opcheck() -> None:
    tensors, index = _case(requires_grad=False)
    out, lse = torch.ops.anemoic.graph_attention(*tensors, *_index_args(index))
    args = (torch.randn_like(out), *tensors, out, lse, *_index_args(index))
    torch.library.opcheck(torch.ops.anemoic.graph_attention_backward.default, args)


def _compiled_matches_eager(compile_backend: str) -> None:
    tensors, index = _case()

    def layer(q, k, v, e):  # noqa: ANN001, ANN202
        return graph_attention(q, k, v, e, index, backend="triton").square().sum()

    compiled = torch.compile(layer, backend=compile_backend, fullgraph=True)
    eager_grads = torch.autograd.grad(layer(*tensors), tensors)
    compiled_grads = torch.autograd.grad(compiled(*tensors), tensors)
    for want, got in zip(eager_grads, compiled_grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_torch_compile_traces_through_without_graph_breaks() -> None:
    torch._dynamo.reset()
    _compiled_matches_eager("aot_eager")


@pytest.mark.gpu
def test_inductor_compiles_around_the_kernel_on_gpu() -> None:
    torch._dynamo.reset()
    _compiled_matches_eager("inductor")


def test_custom_op_and_eager_path_agree() -> None:
    tensors, index = _case()
    args = _index_args(index)
    op_out = torch.ops.anemoic.graph_attention(*tensors, *args)[0]
    op_grads = torch.autograd.grad(op_out.square().sum(), tensors)
    eager_out = graph_attention(*tensors, index, backend="triton")
    eager_grads = torch.autograd.grad(eager_out.square().sum(), tensors)
    assert torch.equal(op_out, eager_out)
    for want, got in zip(op_grads, eager_grads):
        assert torch.equal(got, want)
