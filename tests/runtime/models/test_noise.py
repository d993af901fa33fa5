"""The ensemble's noise on the hidden latent: seeded draws are reproducible, members differ, `condition` starts
as a plain norm and learns to perturb, and the model without a noise module ignores the generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from anemoic.plan.model import MethodPlan, NoisePlan
from anemoic.runtime.methods import Stream, noise_generator
from anemoic.runtime.models import build_model
from anemoic.runtime.models.graph_tensors import build_graph
from tests.factories import make_plan


@pytest.fixture(scope="module")
def real_graph():
    lat = np.repeat(np.linspace(-80.0, 80.0, 9), 18)
    lon = np.tile(np.arange(0.0, 360.0, 20.0), 9)
    return build_graph(make_plan().graph, lat, lon)


def _model(graph, kind: str | None):
    noise = MethodPlan("ensemble", 3, NoisePlan(kind)) if kind else MethodPlan()
    plan = make_plan(**{"task.method": noise, "model.channels": 16, "model.heads": 4})
    torch.manual_seed(0)
    return plan, build_model(plan, graph)


def _input(plan, graph, members: int = 3) -> torch.Tensor:
    x = torch.randn(2, plan.task.multistep_input, 1, graph["data"].num_nodes, len(plan.indices.input),
                    generator=torch.Generator().manual_seed(1))
    return x.expand(-1, -1, members, -1, -1)


def test_the_same_seed_draws_the_same_members_and_another_seed_others(real_graph) -> None:
    plan, model = _model(real_graph, "inject")
    x = _input(plan, real_graph)
    first = model(x, generator=noise_generator(7, Stream.TRAIN, 0, 3))
    again = model(x, generator=noise_generator(7, Stream.TRAIN, 0, 3))
    other = model(x, generator=noise_generator(7, Stream.TRAIN, 0, 4))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    spread = (first[:, 0] - first[:, 1]).abs().mean()  # the same input, three members: they differ
    assert spread > 1e-3


def test_streams_and_seeds_give_independent_generators() -> None:
    draws = {(seed, stream, pos): torch.randn(4, generator=noise_generator(seed, stream, pos))
             for seed in (1, 2) for stream in (Stream.TRAIN, Stream.VALIDATE) for pos in (0, 1)}
    values = list(draws.values())
    assert all(not torch.equal(a, b) for i, a in enumerate(values) for b in values[i + 1:])


def test_condition_starts_as_a_plain_norm_and_a_gradient_step_makes_members_differ(real_graph) -> None:
    plan, model = _model(real_graph, "condition")
    x = _input(plan, real_graph)
    before = model(x, generator=noise_generator(0, Stream.TRAIN, 0))
    torch.testing.assert_close(before[:, 0], before[:, 1])  # zero-initialised scale and shift
    loss = (model(x, generator=noise_generator(0, Stream.TRAIN, 1)) - 1.0).abs().mean()
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    after = model(x, generator=noise_generator(0, Stream.TRAIN, 2))
    assert (after[:, 0] - after[:, 1]).abs().mean() > 1e-6  # the scale and shift now follow the noise


def test_a_model_without_noise_ignores_the_generator(real_graph) -> None:
    plan, model = _model(real_graph, None)
    x = _input(plan, real_graph, members=1)
    assert model.noise is None
    assert torch.equal(model(x), model(x, generator=noise_generator(0, Stream.TRAIN, 0)))
