"""The whole model: shapes for every processor x mapper, residual, bounding, checkpointing, errors."""

from __future__ import annotations

import itertools

import pytest
import torch

from anemoic.plan.kinds import MAPPERS, PROCESSORS
from anemoic.runtime.models import build_model
from tests.factories import make_plan
from tests.runtime.models.tiny_graph import tiny_graph

GRAPH = tiny_graph(grid=40, hidden=12)


def _plan(**overrides):
    return make_plan(**{"model.channels": 16, "model.heads": 4, "model.window_size": 4, **overrides})


def _input(plan, batch=2, members=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, plan.task.multistep_input, members, 40, len(plan.indices.input), generator=g)


@pytest.mark.parametrize("processor,encoder,decoder", list(itertools.product(PROCESSORS, MAPPERS, MAPPERS)))
def test_every_processor_and_mapper_combination_maps_input_to_output_shape(processor, encoder, decoder):
    plan = _plan(**{"model.processor": processor, "model.encoder": encoder, "model.decoder": decoder})
    model = build_model(plan, GRAPH)
    y = model(_input(plan, batch=2, members=3))
    assert y.shape == (2, 3, 40, len(plan.indices.output))
    y.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())


def _silence_network(model):
    """Zero the output projection so the model returns exactly its residual (plus bounding)."""
    with torch.no_grad():
        model.output_projection.weight.zero_()
        model.output_projection.bias.zero_()


def test_state_prediction_adds_last_input_step_of_prognostic_variables():
    plan = _plan()
    model = build_model(plan, GRAPH)
    _silence_network(model)
    x = _input(plan)
    y = model(x)
    for name in plan.indices.prognostic:
        torch.testing.assert_close(y[..., plan.indices.output.index(name)], x[:, -1, ..., plan.indices.input.index(name)])
    assert torch.all(y[..., plan.indices.output.index("tp")] == 0)


def test_under_bf16_autocast_the_output_keeps_the_input_dtype_and_the_exact_residual():
    """Anemoi's rule: the network runs in bf16, the state it returns is float32 (last input + increment)."""
    plan = _plan()
    model = build_model(plan, GRAPH)
    _silence_network(model)
    x = _input(plan) * 100.0  # values where bf16 rounding would show
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = model(x)
    assert y.dtype == torch.float32
    for name in plan.indices.prognostic:
        assert torch.equal(y[..., plan.indices.output.index(name)], x[:, -1, ..., plan.indices.input.index(name)])


def test_tendency_prediction_adds_nothing():
    plan = _plan(**{"task.prediction": "tendency"})
    model = build_model(plan, GRAPH)
    _silence_network(model)
    assert torch.all(model(_input(plan)) == 0)


def test_relu_bounding_clamps_only_bounded_variables():
    plan = _plan()  # tp is bounded with relu in the factory plan
    model = build_model(plan, GRAPH)
    _silence_network(model)
    with torch.no_grad():
        model.output_projection.bias.fill_(-3.0)
    x = torch.zeros_like(_input(plan))
    y = model(x)
    assert torch.all(y[..., plan.indices.output.index("tp")] == 0)
    assert torch.all(y[..., plan.indices.output.index("2t")] == -3.0)


def test_hardtanh_bounding_clamps_to_unit_interval():
    plan = _plan()
    variables = tuple(v if v.name != "tp" else type(v)(**{**v.__dict__, "bounding": "hardtanh"}) for v in plan.variables)
    plan = make_plan(**{"variables": variables, "model.channels": 16, "model.heads": 4})
    model = build_model(plan, GRAPH)
    _silence_network(model)
    tp = plan.indices.output.index("tp")
    x = torch.zeros_like(_input(plan))
    for bias, expected in ((5.0, 1.0), (-5.0, 0.0), (0.25, 0.25)):
        with torch.no_grad():
            model.output_projection.bias[tp] = bias
        assert torch.all(model(x)[..., tp] == expected)


@pytest.mark.parametrize("processor,mapper", [("graphtransformer", "graphtransformer"), ("gnn", "gnn"),
                                              ("transformer", "gnn"), ("mlp", "graphtransformer")])
def test_gradient_checkpointing_gives_identical_outputs_and_gradients(processor, mapper):
    overrides = {"model.processor": processor, "model.encoder": mapper, "model.decoder": mapper,
                 "model.activation": "geglu", "model.norm": "rmsnorm", "model.qk_norm": True}
    torch.manual_seed(7)
    plain = build_model(_plan(**overrides), GRAPH)
    checkpointed = build_model(_plan(**overrides, **{"model.gradient_checkpointing": True}), GRAPH)
    checkpointed.load_state_dict(plain.state_dict())
    # random trainable node parameters so that every path carries signal
    with torch.no_grad():
        for model in (plain, checkpointed):
            model.trainable_data.copy_(torch.linspace(-1, 1, model.trainable_data.numel()).view_as(model.trainable_data))
    x = _input(plain_plan := _plan(**overrides))
    outputs = [model(x) for model in (plain, checkpointed)]
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    for out in outputs:
        out.square().sum().backward()
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=0, msg=name)
    assert len(plain_plan.indices.output) == outputs[0].shape[-1]


def test_graph_tensors_stay_out_of_the_state_dict():
    model = build_model(_plan(), GRAPH)
    keys = model.state_dict().keys()
    assert not [k for k in keys if k.endswith(("edge_attr", "colptr", "src", "dst", "position", "channels"))]
    assert "trainable_data" in keys and "trainable_hidden" in keys


def test_wrong_input_shape_is_explained():
    plan = _plan()
    model = build_model(plan, GRAPH)
    with pytest.raises(ValueError, match=r"model input must be \(batch, 2 steps, ensemble, 40 grid points, 10 "
                                         r"variables\), got \(1, 1, 1, 40, 10\)"):
        model(torch.zeros(1, 1, 1, 40, 10))


def test_graph_without_processor_edges_is_explained():
    graph = tiny_graph()
    del graph["hidden", "to", "hidden"]
    with pytest.raises(ValueError, match="the graph has no hidden -> hidden edges"):
        build_model(_plan(), graph)
