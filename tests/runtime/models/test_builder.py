"""build_model on the graph builder's real output: it runs, learns, and meets the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anemoic.runtime.models.graph_tensors import build_graph
from anemoic.runtime.losses import build_loss
from anemoic.runtime.models import build_model, model_io
from tests.factories import make_plan


@pytest.fixture(scope="module")
def real_graph():
    lat = np.repeat(np.linspace(-80.0, 80.0, 9), 18)
    lon = np.tile(np.arange(0.0, 360.0, 20.0), 9)
    return build_graph(make_plan().graph, lat, lon)


@pytest.mark.parametrize("processor", ["graphtransformer", "gnn", "transformer", "mlp"])
def test_a_few_adam_steps_reduce_the_plan_loss_on_a_real_graph(real_graph, processor):
    torch.manual_seed(0)
    plan = make_plan(**{"model.processor": processor, "model.channels": 16, "model.heads": 4,
                        "model.window_size": 8})
    model, loss = build_model(plan, real_graph), build_loss(plan, real_graph)
    grid = real_graph["data"].num_nodes
    x = torch.randn(2, plan.task.multistep_input, 1, grid, len(plan.indices.input))
    target = torch.randn(2, 1, grid, len(plan.indices.output)).clamp(min=0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(8):
        optimiser.zero_grad()
        value = loss(model(x), target)
        value.backward()
        optimiser.step()
        losses.append(value.item())
    assert losses[-1] < 0.9 * losses[0]


def test_model_io_follows_the_plan():
    plan = make_plan()
    io = model_io(plan)
    assert io.bounding == (("tp", "relu"),)
    assert io.prognostic == plan.indices.prognostic and io.multistep_input == 2
