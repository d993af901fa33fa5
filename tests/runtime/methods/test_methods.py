"""Methods through their registry: the deterministic model as it is; an ensemble grown from one state into its
members, rolled out member by member, and trained by the CRPS until its loss falls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anemoic.plan.model import LossTermPlan, MethodPlan, NoisePlan, ScalerPlan
from anemoic.runtime.losses import build_loss
from anemoic.runtime.methods import Deterministic, Ensemble, Stream, build_method
from anemoic.runtime.models import build_model
from anemoic.runtime.models.graph_tensors import build_graph
from anemoic.runtime.tasks import TASKS
from tests.factories import make_plan

ENSEMBLE = {
    "task.method": MethodPlan("ensemble", 4, NoisePlan("inject")),
    "loss.terms": (LossTermPlan("crps", params={"alpha": 0.95}, scalers=("node_weights",)),),
    "loss.scalers": (ScalerPlan("node_weights", "node_weights", params={"attribute": "area_weight"}),),
    "model.channels": 16, "model.heads": 4,
}


@pytest.fixture(scope="module")
def real_graph():
    lat = np.repeat(np.linspace(-80.0, 80.0, 9), 18)
    lon = np.tile(np.arange(0.0, 360.0, 20.0), 9)
    return build_graph(make_plan().graph, lat, lon)


def test_the_registry_builds_each_method_from_the_plan() -> None:
    assert isinstance(build_method(make_plan()), Deterministic) and build_method(make_plan()).members == 1
    method = build_method(make_plan(**ENSEMBLE))
    assert isinstance(method, Ensemble) and method.members == 4
    assert build_method(make_plan()).generator(1, Stream.TRAIN, 0) is None
    with pytest.raises(ValueError, match="at least 2 members"):
        Ensemble(1)


def test_an_ensemble_rolls_out_each_member_from_the_same_analysis(real_graph) -> None:
    plan = make_plan(**ENSEMBLE)
    torch.manual_seed(0)
    model, task, method = build_model(plan, real_graph), TASKS[plan.task.kind].from_plan(plan), build_method(plan)
    batch = torch.randn(2, 4, 1, real_graph["data"].num_nodes, len(plan.indices.data),
                        generator=torch.Generator().manual_seed(3))
    bound = method.bind(model, method.generator(plan.seed, Stream.VALIDATE, 0))
    result = task.validation_rollout(bound, batch, 2)
    assert result.predictions.shape == (2, 2, 4, real_graph["data"].num_nodes, len(plan.indices.output))
    assert result.targets.shape[2] == 1  # the truth stays one state
    lead2 = result.predictions[:, 1]
    assert (lead2[:, 0] - lead2[:, 1]).abs().mean() > 1e-3  # members diverge


def test_a_few_steps_of_crps_training_reduce_the_loss(real_graph) -> None:
    plan = make_plan(**ENSEMBLE)
    torch.manual_seed(0)
    model, loss = build_model(plan, real_graph), build_loss(plan, real_graph)
    task, method = TASKS[plan.task.kind].from_plan(plan), build_method(plan)
    batch = torch.randn(2, 3, 1, real_graph["data"].num_nodes, len(plan.indices.data),
                        generator=torch.Generator().manual_seed(4))
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for step in range(10):
        optimiser.zero_grad()
        value = task.training_loss(method.bind(model, method.generator(0, Stream.TRAIN, 0, step)), loss, batch, 0)
        value.backward()
        optimiser.step()
        losses.append(value.item())
    assert losses[-1] < 0.9 * losses[0]
