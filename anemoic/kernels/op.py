"""The Triton kernels as ``torch.library`` custom ops (``anemoic::graph_attention`` and its backward).

Custom ops with fake implementations let ``torch.compile`` trace through the kernel without graph
breaks; the registered autograd calls a second custom op, so compiled backward graphs keep it too.
"""

from __future__ import annotations

import torch
from torch import Tensor

from anemoic.kernels import launch
from anemoic.kernels.index import GraphAttentionIndex


@torch.library.custom_op("anemoic::graph_attention", mutates_args=())
def attention_op(
    q: Tensor, k: Tensor, v: Tensor, e: Tensor,
    colptr: Tensor, src: Tensor, rev_ptr: Tensor, rev_perm: Tensor, rev_dst: Tensor,
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """(out, lse): the attention output and the per-(destination, head) base-2 log-sum-exp."""
    q, k, v, e = (t.contiguous() for t in (q, k, v, e))
    return launch.forward(q, k, v, e, colptr, src)


@attention_op.register_fake
def _attention_fake(q, k, v, e, colptr, src, rev_ptr, rev_perm, rev_dst):  # noqa: ANN001, ANN202
    acc_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    return torch.empty_like(q, memory_format=torch.contiguous_format), q.new_empty(q.shape[:2], dtype=acc_dtype)


@torch.library.custom_op("anemoic::graph_attention_backward", mutates_args=())
def attention_backward_op(
    grad_out: Tensor, q: Tensor, k: Tensor, v: Tensor, e: Tensor, out: Tensor, lse: Tensor,
    colptr: Tensor, src: Tensor, rev_ptr: Tensor, rev_perm: Tensor, rev_dst: Tensor,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """(dq, dk, dv, de) for the upstream gradient ``grad_out``."""
    q, k, v, e = (t.contiguous() for t in (q, k, v, e))
    return launch.backward(grad_out, q, k, v, e, out, lse, colptr, src, rev_ptr, rev_perm, rev_dst)


@attention_backward_op.register_fake
def _attention_backward_fake(grad_out, q, k, v, e, out, lse, colptr, src, rev_ptr, rev_perm, rev_dst):  # noqa: ANN001, ANN202
    return tuple(torch.empty_like(t, memory_format=torch.contiguous_format) for t in (q, k, v, e))


def _setup_context(ctx, inputs, output) -> None:  # noqa: ANN001
    q, k, v, e, colptr, src, rev_ptr, rev_perm, rev_dst = inputs
    out, lse = output
    ctx.save_for_backward(q, k, v, e, out, lse, colptr, src, rev_ptr, rev_perm, rev_dst)
    ctx.mark_non_differentiable(lse)


def _backward(ctx, grad_out: Tensor, _grad_lse: Tensor | None):  # noqa: ANN001, ANN202
    q, k, v, e, out, lse, colptr, src, rev_ptr, rev_perm, rev_dst = ctx.saved_tensors
    dq, dk, dv, de = attention_backward_op(grad_out, q, k, v, e, out, lse, colptr, src, rev_ptr, rev_perm, rev_dst)
    return dq, dk, dv, de, None, None, None, None, None


attention_op.register_autograd(_backward, setup_context=_setup_context)


class _EagerAttention(torch.autograd.Function):
    """The same launches as the custom ops without their Python dispatch, for eager calls.

    Eager training is launch-bound at these sizes (a layer call is a few hundred microseconds of
    GPU work), so the custom-op machinery is skipped where nothing traces the call. The index is
    passed as one object and kept on ctx (its tensors are never modified in place), so apply and
    save_for_backward handle only the four inputs and the two outputs.
    """

    @staticmethod
    def forward(ctx, q, k, v, e, index):  # noqa: ANN001, ANN205
        q, k, v, e = (t.contiguous() for t in (q, k, v, e))
        out, lse = launch.forward(q, k, v, e, index.colptr, index.src)
        ctx.save_for_backward(q, k, v, e, out, lse)
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        q, k, v, e, out, lse = ctx.saved_tensors
        index = ctx.index
        grads = launch.backward(
            grad_out, q, k, v, e, out, lse, index.colptr, index.src, index.rev_ptr, index.rev_perm, index.rev_dst
        )
        return (*grads, None)


def triton_graph_attention(q: Tensor, k: Tensor, v: Tensor, e: Tensor, index: GraphAttentionIndex) -> Tensor:
    """Fused attention: the custom op under torch.compile, a plain autograd Function in eager mode."""
    if torch.compiler.is_compiling():
        args = (q, k, v, e, index.colptr, index.src, index.rev_ptr, index.rev_perm, index.rev_dst)
        return attention_op(*args)[0]
    return _EagerAttention.apply(q, k, v, e, index)
