"""Forecaster routing on a small hand-written model: prognostics fed back, forcings from the batch,
diagnostics never fed back, tendencies turned into states, loss averaged over the rollout."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from anemoic.plan.model import RolloutPlan
from anemoic.runtime.tasks import TASKS
from anemoic.runtime.tasks.forecaster import ForecasterTask
from tests.factories import make_plan

PLAN = make_plan()
IDX = PLAN.indices
B, E, G = 2, 1, 5


class PersistencePlusOne(torch.nn.Module):
    """Next prognostic state = last input + 1; diagnostic tp = sum of the last step's forcings."""

    def __init__(self) -> None:
        super().__init__()
        self.prognostic = [IDX.input.index(n) for n in IDX.prognostic]
        self.forcing = [IDX.input.index(n) for n in IDX.forcing]
        self.calls: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.clone())
        last = x[:, -1]
        diagnostic = last[..., self.forcing].sum(-1, keepdim=True)
        return torch.cat([last[..., self.prognostic] + 1, diagnostic], dim=-1)


def _batch(steps: int) -> torch.Tensor:
    return torch.randn(B, steps, E, G, len(IDX.data), generator=torch.Generator().manual_seed(0))


def _task(tendency_scale: torch.Tensor | None = None, **task_changes: object) -> ForecasterTask:
    plan = dataclasses.replace(PLAN, task=dataclasses.replace(PLAN.task, **task_changes))
    return ForecasterTask.from_plan(plan, tendency_scale=tendency_scale)


def test_rollout_feeds_predictions_back_and_takes_forcings_from_the_batch() -> None:
    task, model = _task(), PersistencePlusOne()
    batch = _batch(task.multistep + 3)
    results = list(task.rollout(model, batch, 3))
    prog_data = [IDX.data.index(n) for n in IDX.prognostic]
    forcing_data = [IDX.data.index(n) for n in IDX.forcing]
    last_input = batch[:, task.multistep - 1][..., prog_data]
    for lead, state, target in results:
        assert torch.allclose(state[..., : len(prog_data)], last_input + lead + 1)
        assert torch.equal(target, batch[:, task.multistep + lead][..., [IDX.data.index(n) for n in IDX.output]])
    # the input of step 2 holds the observed forcings of the newest time, not predicted ones
    newest = model.calls[2][:, -1]
    assert torch.equal(newest[..., [IDX.input.index(n) for n in IDX.forcing]],
                       batch[:, task.multistep + 1][..., forcing_data])
    assert model.calls[2].shape[1] == task.multistep  # the window slides, it does not grow


def test_training_loss_is_the_mean_over_this_epochs_rollout() -> None:
    task, model = _task(), PersistencePlusOne()
    batch = _batch(task.window(task.plan, "train"))
    seen: list[int] = []

    def loss(pred: torch.Tensor, target: torch.Tensor, *, lead_time_index: int) -> torch.Tensor:
        seen.append(lead_time_index)
        return torch.tensor(float(lead_time_index + 1))

    assert float(task.training_loss(model, loss, batch, epoch=0)) == 1.0  # rollout 1 in epoch 0
    assert float(task.training_loss(model, loss, batch, epoch=1)) == 1.5  # rollout 2: (1 + 2) / 2
    assert seen == [0, 0, 1]


def test_tendency_prediction_is_added_to_the_last_state_with_its_scale() -> None:
    n = len(IDX.prognostic)
    task = _task(prediction="tendency", tendency_scale=torch.full((n,), 2.0))
    last_input = torch.randn(B, E, G, len(IDX.input))
    tendency = torch.ones(B, E, G, len(IDX.output))
    state = task.to_state(tendency, last_input)
    assert torch.allclose(state[..., :n], last_input[..., [IDX.input.index(p) for p in IDX.prognostic]] + 2.0)
    assert torch.equal(state[..., n:], tendency[..., n:])  # diagnostics are states already


def test_validation_rollout_compares_with_the_states_after_the_inputs() -> None:
    task = _task()
    batch = _batch(task.window(task.plan, "validate"))
    result = task.validation_rollout(PersistencePlusOne(), batch)
    out = [IDX.data.index(n) for n in IDX.output]
    assert result.predictions.shape == (B, 2, E, G, len(IDX.output)) == result.targets.shape
    assert torch.equal(result.targets, batch[:, task.multistep:][..., out])
    assert torch.equal(task.targets(batch, 2), result.targets)
    assert torch.equal(task.last_input(batch), batch[:, task.multistep - 1][..., out])


def test_the_windows_are_the_plans_sample_windows() -> None:
    task = _task(multistep_input=3, rollout=RolloutPlan(start=1, increment=1, maximum=4, validation=2))
    assert (task.window(task.plan, "train"), task.window(task.plan, "validate")) == (7, 5)
    assert task.forecast_window(task.plan, 6) == 9
    assert task.target_times(6) == slice(3, 9)


def test_the_runtime_builds_each_task_through_the_registry() -> None:
    assert isinstance(TASKS[PLAN.task.kind].from_plan(PLAN), ForecasterTask)


def test_a_short_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="needs 4 states"):
        list(_task().rollout(PersistencePlusOne(), _batch(3), 2))
