"""The PyTorch reference against independent oracles: a per-node loop and PyG's TransformerConv."""

from __future__ import annotations

import math

import pytest
import torch

from anemoic.kernels import build_csc_index, graph_attention
from anemoic.kernels.reference import reference_graph_attention
from tests.kernels.graphs import random_graph, random_inputs


def _loop_oracle(q, k, v, e, edges):  # noqa: ANN001, ANN202
    out = torch.zeros_like(q)
    for dst in range(q.shape[0]):
        mask = edges[1] == dst
        if not mask.any():
            continue
        src = edges[0, mask]
        scores = (q[dst][None] * (k[src] + e[mask])).sum(-1) / math.sqrt(q.shape[-1])
        alpha = torch.softmax(scores, dim=0)
        out[dst] = (alpha[..., None] * (v[src] + e[mask])).sum(0)
    return out


def test_reference_matches_a_per_node_loop() -> None:
    edges = random_graph(num_src=8, num_dst=10, max_degree=6, seed=3)
    index = build_csc_index(edges, 8, 10)
    q, k, v, e = random_inputs((8, 10, edges.shape[1]), 3, 5, torch.float64, "cpu", seed=4)
    out = reference_graph_attention(q, k, v, e, index)
    torch.testing.assert_close(out, _loop_oracle(q, k, v, e, edges), rtol=1e-12, atol=1e-12)
    assert torch.count_nonzero(out[-1]) == 0


def test_reference_matches_pyg_transformer_conv_with_identity_projections() -> None:
    from torch_geometric.nn import TransformerConv

    heads, channels = 4, 6
    width = heads * channels
    edges = random_graph(num_src=12, num_dst=9, max_degree=5, seed=5)
    index = build_csc_index(edges, 12, 9)
    q, k, v, e = random_inputs((12, 9, edges.shape[1]), heads, channels, torch.float64, "cpu", seed=6)
    conv = TransformerConv((2 * width, width), channels, heads=heads, edge_dim=width, root_weight=False).double()
    eye = torch.eye(width, dtype=torch.float64)
    with torch.no_grad():
        conv.lin_query.weight.copy_(eye)
        conv.lin_key.weight.copy_(torch.cat([eye, torch.zeros_like(eye)], dim=1))  # key = first half of x_src
        conv.lin_value.weight.copy_(torch.cat([torch.zeros_like(eye), eye], dim=1))  # value = second half
        conv.lin_edge.weight.copy_(eye)
        for lin in (conv.lin_query, conv.lin_key, conv.lin_value):
            lin.bias.zero_()
    x_src = torch.cat([k.reshape(12, width), v.reshape(12, width)], dim=1)
    expected = conv((x_src, q.reshape(9, width)), edges, e.reshape(-1, width)).reshape(9, heads, channels)
    torch.testing.assert_close(reference_graph_attention(q, k, v, e, index), expected, rtol=1e-10, atol=1e-10)


def test_reference_gradients_pass_gradcheck() -> None:
    edges = random_graph(num_src=5, num_dst=6, max_degree=3, seed=7, hubs=0)
    index = build_csc_index(edges, 5, 6)
    inputs = [t.requires_grad_() for t in random_inputs((5, 6, edges.shape[1]), 2, 3, torch.float64, "cpu", seed=8)]
    assert torch.autograd.gradcheck(lambda *t: reference_graph_attention(*t, index), inputs)


def test_half_precision_inputs_return_their_dtype() -> None:
    edges = random_graph(num_src=5, num_dst=6, max_degree=3, seed=9, hubs=0)
    index = build_csc_index(edges, 5, 6)
    q, k, v, e = random_inputs((5, 6, edges.shape[1]), 2, 4, torch.bfloat16, "cpu", seed=10)
    out = graph_attention(q, k, v, e, index, backend="reference")
    assert out.dtype == torch.bfloat16
    exact = reference_graph_attention(*(t.double() for t in (q, k, v, e)), index)
    torch.testing.assert_close(out.double(), exact, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize(
    ("backend", "message"),
    [("fast", "unknown attention backend 'fast'"), ("triton", "needs CUDA tensors")],
)
def test_backend_errors_name_the_problem(backend: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    index = build_csc_index(torch.tensor([[0], [0]]), 1, 1)
    q = torch.zeros(1, 1, 2)
    with pytest.raises(ValueError, match=message):
        graph_attention(q, q, q, q, index, backend=backend)


def test_shape_mismatch_is_refused() -> None:
    index = build_csc_index(torch.tensor([[0, 1], [0, 0]]), 2, 1)
    q = torch.zeros(1, 2, 3)
    with pytest.raises(ValueError, match=r"k must have shape \(2, 2, 3\)"):
        graph_attention(q, q, q, torch.zeros(2, 2, 3), index)
