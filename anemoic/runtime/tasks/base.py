"""What the training loop needs from a task: the common shape of the forecaster, the temporal downscaler and
the autoencoder.

A task owns the time structure of a sample (as anemoi's ``BaseTask``): which states a sample of a
split holds (the data module asks the task type, ``Task.window``) and how a batch of those states
becomes model inputs, predictions and targets.  It holds no parameters: the model and loss are
passed in, so the Lightning module owns every ``nn.Module`` and checkpoints stay plain state_dicts.
Batches are ``(B, T, E, G, V_data)``; the methods take normalised batches, and ``targets`` and
``last_input`` take any tensor of that shape (a raw batch, its NaN mask) since they only select.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import Callable, ClassVar

import torch

from anemoic.plan.model import Plan, TaskPlan
from anemoic.plan.windows import Split, window_length
from anemoic.runtime.tasks.indices import RoutingIndices
from anemoic.runtime.tasks.rollout import rollout_steps

Model = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class RolloutResult:
    """Normalised tensors of one rollout, each ``(B, R, E, G, V_out)``."""

    predictions: torch.Tensor
    targets: torch.Tensor


class Task(ABC):
    plan: TaskPlan
    routing: RoutingIndices
    has_lead_times: ClassVar[bool] = True  # False: one score per variable (no lead time, no persistence baseline)
    baseline_name: ClassVar[str] = "persistence"  # the reference forecast the scores are compared with

    @property
    def validation_steps(self) -> int:
        """States a validation sample is scored on (its leads): the validation rollout."""
        return self.plan.rollout.validation

    def lead_offsets(self, steps: int) -> tuple[int, ...]:
        """The time of each of ``steps`` predictions, in timesteps (from the newest input, for a forecaster)."""
        return tuple(range(1, steps + 1))

    def baseline(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        """``(B, R, E, G, V_out)`` of a raw batch: the reference forecast (persistence: the newest input held)."""
        target = self.targets(batch, steps)
        return self.last_input(batch).unsqueeze(1).expand_as(target)

    @classmethod
    def window(cls, task: TaskPlan, split: Split) -> int:
        """States per sample of ``split``: the plan's one formula (``anemoic.plan.windows``), which the
        compiler also checks every period against."""
        return window_length(task, split)

    @classmethod
    def forecast_window(cls, task: TaskPlan, steps: int) -> int:
        """States a forecast of ``steps`` steps reads: a validation sample with a rollout of ``steps``."""
        return cls.window(replace(task, rollout=replace(task.rollout, validation=steps)), "validate")

    @classmethod
    @abstractmethod
    def from_plan(cls, plan: Plan, *, tendency_scale: torch.Tensor | None = None) -> Task:
        """The task of ``plan``; ``tendency_scale`` (per prognostic output channel: tendency stdev over
        state scale) is given when ``plan.task.prediction == "tendency"``."""

    def members_of(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, 1, G, V) as the method's members (B, T, M, G, V): the same states, M views of them."""
        members = self.plan.method.members
        if members == 1 or x.shape[2] == members:
            return x
        if x.shape[2] != 1:
            raise ValueError(f"the batch holds {x.shape[2]} ensemble members; an ensemble of {members} grows from one")
        return x.expand(-1, -1, members, -1, -1)

    def rollout_for_epoch(self, epoch: int) -> int:
        """Autoregressive steps the training loss sees in ``epoch``."""
        return rollout_steps(self.plan.rollout, epoch)

    @abstractmethod
    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """Mean loss over the rollout of this epoch; ``missing`` (bool, like ``batch``) marks imputed
        values the loss must not see."""

    @abstractmethod
    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        """Predictions and targets over ``steps`` (default: the plan's validation rollout); ``predict``
        makes its forecasts with it too."""

    @abstractmethod
    def target_times(self, steps: int) -> slice | list[int]:
        """Positions in a sample's window of the states the first ``steps`` predictions are compared with."""

    @abstractmethod
    def targets(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        """``(B, R, E, G, V_out)``: the states at ``target_times(steps)``."""

    def initial_position(self) -> int:
        """Position in a sample's window of the state a forecast starts from (its lead 0, its ``--date``)."""
        return self.plan.multistep_input - 1

    @abstractmethod
    def last_input(self, batch: torch.Tensor) -> torch.Tensor:
        """``(B, E, G, V_out)``: the newest input state, the persistence forecast and a forecast's lead 0."""
