"""Layer kernels and the edge-set container."""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.layers import GatedMLP, LayerKernels, QKNorm, sincos_position


@pytest.mark.parametrize("norm,kind", [("layernorm", torch.nn.LayerNorm), ("rmsnorm", torch.nn.RMSNorm)])
def test_norm_choice_builds_that_norm(norm, kind):
    assert isinstance(LayerKernels(norm=norm).make_norm(8), kind)


@pytest.mark.parametrize("activation", ["gelu", "silu", "relu", "swiglu", "geglu"])
def test_every_activation_gives_a_working_mlp(activation):
    mlp = LayerKernels(activation=activation, mlp_hidden_ratio=2).make_mlp(6, 4)
    assert mlp(torch.randn(3, 6)).shape == (3, 4)
    assert isinstance(mlp, GatedMLP) == activation.endswith("glu")


def test_swiglu_gates_with_silu():
    mlp = GatedMLP(1, 1, 1, torch.nn.SiLU)
    with torch.no_grad():
        mlp.proj_in.weight.copy_(torch.tensor([[1.0], [1.0]]))
        mlp.proj_in.bias.zero_()
        mlp.proj_out.weight.fill_(1.0)
        mlp.proj_out.bias.zero_()
    x = torch.tensor([[2.0]])
    torch.testing.assert_close(mlp(x), torch.nn.functional.silu(x) * x)


def test_qk_norm_normalises_each_head_only_when_enabled():
    x = torch.randn(5, 4, 8) * 10 + 3
    normed = QKNorm(LayerKernels(qk_norm=True), 8)(x)
    torch.testing.assert_close(normed.mean(-1), torch.zeros(5, 4), atol=1e-5, rtol=0)
    assert QKNorm(LayerKernels(qk_norm=False), 8)(x) is x


def test_unknown_kernel_names_are_listed():
    with pytest.raises(ValueError, match="unknown norm 'batchnorm'; choose one of layernorm, rmsnorm"):
        LayerKernels(norm="batchnorm")
    with pytest.raises(ValueError, match="unknown activation 'tanh'; choose one of gelu, silu, relu, swiglu, geglu"):
        LayerKernels(activation="tanh")


def test_sincos_position_of_the_north_pole_on_the_greenwich_meridian():
    torch.testing.assert_close(sincos_position(torch.tensor([[torch.pi / 2, 0.0]])),
                               torch.tensor([[1.0, 0.0, 0.0, 1.0]]), atol=1e-7, rtol=0)


def test_edge_set_keeps_graph_out_of_state_dict_and_moves_with_the_module():
    edge_index = torch.tensor([[0, 2, 1], [0, 0, 1]])
    edges = EdgeSet(edge_index, torch.ones(3, 3), num_src=3, num_dst=2)
    assert edges.state_dict() == {}
    index = edges.double().attention_index()
    assert index.num_edges == 3 and index.colptr.tolist() == [0, 2, 3]
    assert edges.edge_attr.dtype == torch.float64  # follows the module like any buffer


def test_edge_set_rejects_unsorted_edges_and_misshaped_attributes():
    with pytest.raises(ValueError, match="sorted by destination"):
        EdgeSet(torch.tensor([[0, 1], [1, 0]]), torch.ones(2, 3), 2, 2)
    with pytest.raises(ValueError, match=r"edge_attr must be \(E, F\) with E=2 edges, got \(3, 3\)"):
        EdgeSet(torch.tensor([[0, 1], [0, 1]]), torch.ones(3, 3), 2, 2)


def test_edge_set_reuses_a_matching_cached_index_and_rebuilds_a_stale_one():
    from anemoic.kernels import build_csc_index

    edge_index = torch.tensor([[0, 2, 1], [0, 0, 1]])
    cached = build_csc_index(edge_index, 3, 2)
    assert EdgeSet(edge_index, torch.ones(3, 3), 3, 2, index=cached).src is cached.src
    stale = build_csc_index(torch.tensor([[1, 2, 1], [0, 0, 1]]), 3, 2)
    assert EdgeSet(edge_index, torch.ones(3, 3), 3, 2, index=stale).src.tolist() == [0, 2, 1]
