"""Processors and mappers: permutation equivariance where it applies, exact sliding window."""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.models.mappers import build_mapper
from anemoic.runtime.models.processors import build_processor
from anemoic.runtime.models.transformer import sliding_window_attention
from tests.runtime.models.tiny_graph import knn_edges, random_latlon

CHANNELS, HEADS = 16, 4
KERNELS = LayerKernels(norm="rmsnorm", activation="swiglu", qk_norm=True)


def _relabel(edge_index, edge_attr, src_perm, dst_perm):
    """Edges of the graph whose node i is old node perm[i], re-sorted by destination."""
    src_new = torch.argsort(src_perm)[edge_index[0]]
    dst_new = torch.argsort(dst_perm)[edge_index[1]]
    order = torch.argsort(dst_new, stable=True)
    return torch.stack([src_new, dst_new])[:, order], edge_attr[order]


def _graph(n_src, n_dst, k, same):
    g = torch.Generator().manual_seed(3)
    src = random_latlon(n_src, g)
    dst = src if same else random_latlon(n_dst, g)
    return knn_edges(src, dst, k, g, exclude_self=same)


@pytest.mark.parametrize("kind", ["graphtransformer", "gnn", "mlp"])
def test_processor_is_equivariant_to_relabelling_hidden_nodes(kind):
    torch.manual_seed(0)
    n = 15
    edge_index, edge_attr = _graph(n, n, 4, same=True)
    perm = torch.randperm(n)
    new_index, new_attr = _relabel(edge_index, edge_attr, perm, perm)
    args = {"channels": CHANNELS, "layers": 2, "heads": HEADS, "kernels": KERNELS}
    original = build_processor(kind, edges=EdgeSet(edge_index, edge_attr, n, n), **args).double()
    relabelled = build_processor(kind, edges=EdgeSet(new_index, new_attr, n, n), **args).double()
    relabelled.load_state_dict(original.state_dict())
    x = torch.randn(2, n, CHANNELS, dtype=torch.float64)
    torch.testing.assert_close(relabelled(x[:, perm]), original(x)[:, perm])


@pytest.mark.parametrize("kind", ["graphtransformer", "gnn"])
def test_mapper_is_equivariant_to_relabelling_both_node_sets(kind):
    torch.manual_seed(1)
    n_src, n_dst = 20, 9
    edge_index, edge_attr = _graph(n_src, n_dst, 5, same=False)
    src_perm, dst_perm = torch.randperm(n_src), torch.randperm(n_dst)
    new_index, new_attr = _relabel(edge_index, edge_attr, src_perm, dst_perm)
    args = {"channels": CHANNELS, "heads": HEADS, "kernels": KERNELS}
    original = build_mapper(kind, edges=EdgeSet(edge_index, edge_attr, n_src, n_dst), **args).double()
    relabelled = build_mapper(kind, edges=EdgeSet(new_index, new_attr, n_src, n_dst), **args).double()
    relabelled.load_state_dict(original.state_dict())
    x_src = torch.randn(2, n_src, CHANNELS, dtype=torch.float64)
    x_dst = torch.randn(2, n_dst, CHANNELS, dtype=torch.float64)
    torch.testing.assert_close(relabelled(x_src[:, src_perm], x_dst[:, dst_perm]), original(x_src, x_dst)[:, dst_perm])


def test_equivariance_check_can_fail_when_edges_are_not_relabelled():
    """Guard for the tests above: relabelling nodes but not edges must change the result."""
    torch.manual_seed(2)
    n = 15
    edge_index, edge_attr = _graph(n, n, 4, same=True)
    proc = build_processor("gnn", edges=EdgeSet(edge_index, edge_attr, n, n), channels=CHANNELS, layers=1,
                           heads=HEADS, kernels=KERNELS).double()
    x = torch.randn(1, n, CHANNELS, dtype=torch.float64)
    perm = torch.randperm(n)
    assert not torch.allclose(proc(x[:, perm]), proc(x)[:, perm])


@pytest.mark.parametrize("length,window", [(23, 6), (8, 20), (16, 4), (5, 1)])
def test_sliding_window_attention_equals_dense_banded_attention(length, window):
    torch.manual_seed(4)
    q, k, v = (torch.randn(2, 3, length, 8, dtype=torch.float64) for _ in range(3))
    half = max(window // 2, 1)
    pos = torch.arange(length)
    band = (pos.view(-1, 1) - pos.view(1, -1)).abs() <= half
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=band)
    torch.testing.assert_close(sliding_window_attention(q, k, v, window), expected)


def test_transformer_processor_without_window_attends_globally():
    torch.manual_seed(5)
    n = 10
    edge_index, edge_attr = _graph(n, n, 3, same=True)
    edges = EdgeSet(edge_index, edge_attr, n, n)
    proc = build_processor("transformer", edges=edges, channels=CHANNELS, layers=1, heads=HEADS, kernels=KERNELS,
                           window_size=None)
    x = torch.randn(1, n, CHANNELS)
    y = x.clone()
    y[0, -1] += 1.0  # change the last node: with global attention the first node's output changes too
    assert not torch.allclose(proc(x)[0, 0], proc(y)[0, 0])
    windowed = build_processor("transformer", edges=edges, channels=CHANNELS, layers=1, heads=HEADS,
                               kernels=KERNELS, window_size=2)
    windowed.load_state_dict(proc.state_dict())
    torch.testing.assert_close(windowed(x)[0, 0], windowed(y)[0, 0])


def test_unknown_processor_and_mapper_are_named():
    edge_index, edge_attr = _graph(6, 6, 2, same=True)
    edges = EdgeSet(edge_index, edge_attr, 6, 6)
    with pytest.raises(ValueError, match="unknown processor 'convnext'; choose one of graphtransformer, gnn"):
        build_processor("convnext", edges=edges, channels=8, layers=1, heads=2, kernels=KERNELS)
    with pytest.raises(ValueError, match="unknown mapper 'transformer'"):
        build_mapper("transformer", edges=edges, channels=8, heads=2, kernels=KERNELS)


def test_channels_must_divide_into_heads():
    edge_index, edge_attr = _graph(6, 6, 2, same=True)
    with pytest.raises(ValueError, match=r"channels \(10\) must be divisible by heads \(4\)"):
        build_processor("graphtransformer", edges=EdgeSet(edge_index, edge_attr, 6, 6), channels=10, layers=1,
                        heads=4, kernels=KERNELS)
