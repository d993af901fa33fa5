"""Linear warmup then cosine decay to min_lr; constant after warmup for kind "constant"."""

from __future__ import annotations

import math

import pytest
import torch

from anemoic.plan.model import SchedulePlan
from anemoic.runtime.training.schedule import build_scheduler, lr_factor


def test_warmup_then_cosine_down_to_min_lr() -> None:
    factor = lr_factor(SchedulePlan(kind="cosine", warmup_steps=4, min_lr=1e-4), base_lr=1e-3, total_steps=14)
    assert [factor(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert factor(4) == pytest.approx(1.0)
    assert factor(9) == pytest.approx(0.1 + 0.9 * 0.5)  # half way through the decay
    assert factor(14) == pytest.approx(0.1) and factor(100) == pytest.approx(0.1)


def test_constant_schedule_and_the_optimiser_sees_it() -> None:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimiser = torch.optim.SGD([parameter], lr=2.0)
    scheduler = build_scheduler(optimiser, SchedulePlan(kind="constant", warmup_steps=2), 2.0, 10)
    lrs = []
    for _ in range(4):
        lrs.append(optimiser.param_groups[0]["lr"])
        optimiser.step()
        scheduler.step()
    assert lrs == [1.0, 2.0, 2.0, 2.0]
    assert all(not callable(v) for v in scheduler.state_dict()["lr_lambdas"])  # weights_only-safe state


def test_cosine_is_monotone_after_warmup() -> None:
    factor = lr_factor(SchedulePlan(warmup_steps=0, min_lr=0.0), 1.0, 50)
    values = [factor(s) for s in range(51)]
    assert all(a >= b for a, b in zip(values, values[1:])) and math.isclose(values[-1], 0.0, abs_tol=1e-12)
