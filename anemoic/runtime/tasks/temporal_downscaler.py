"""Temporal downscaler: the states between two (or more) given times, all predicted in one pass.

A sample's window holds the bracketing inputs at ``plan.input_offsets`` and the targets between them at
``plan.target_offsets`` (timesteps from the first input; ``anemoic.plan.windows``).  The model reads the
inputs, every input variable at each input time (forcings included, as anemoi's TemporalDownscaler reads
its boundary states), and returns every target at once, ``(B, S, E, G, V_out)``: its output projection has
S x V_out channels, and with ``prediction = "state"`` it adds to each target the linear interpolation
between the inputs that bracket it, so the network learns the departure from linear interpolation.
There is no rollout: training and validation see the same window.  With an ensemble method the inputs are
grown into the members along E, as the forecaster does; the loss compares each target on its own (its
``lead_time_index`` is the target's position), and the mean over the targets is the sample's loss.  The
baseline the scores are compared with is that linear interpolation, in physical units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from anemoic.plan.model import Plan, TaskPlan
from anemoic.plan.windows import interpolation_weights
from anemoic.runtime.tasks.base import LossFn, Model, RolloutResult, Task
from anemoic.runtime.tasks.indices import RoutingIndices


@dataclass(frozen=True)
class TemporalDownscalerTask(Task):
    plan: TaskPlan
    routing: RoutingIndices
    baseline_name: ClassVar[str] = "linear"

    @classmethod
    def from_plan(cls, plan: Plan, *, tendency_scale: torch.Tensor | None = None) -> TemporalDownscalerTask:
        return cls(plan.task, RoutingIndices.from_plan(plan.indices))

    @property
    def validation_steps(self) -> int:
        return len(self.plan.target_offsets)

    def lead_offsets(self, steps: int) -> tuple[int, ...]:
        """Each target's offset from the first input, in timesteps."""
        return self.plan.target_offsets[:steps]

    def rollout_for_epoch(self, epoch: int) -> int:
        return 1

    def predict(self, model: Model, batch: torch.Tensor) -> torch.Tensor:
        """``(B, S, E, G, V_out)``: every target of the normalised ``batch`` from its inputs, in one pass."""
        r = self.routing.to(batch.device)
        x = self.members_of(batch[:, list(self.plan.input_offsets)][..., r.input_from_data])
        y = model(x)
        return y.unsqueeze(1) if y.dim() == 4 else y  # one target: the model returns (B, E, G, V_out)

    def target_times(self, steps: int) -> list[int]:
        return list(self.plan.target_offsets[:steps])

    def targets(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        return batch[:, self.target_times(steps)][..., self.routing.output_from_data.to(batch.device)]

    def initial_position(self) -> int:
        """The first input, t: ``predict --date`` names it, and its state is the forecast's lead 0."""
        return 0

    def last_input(self, batch: torch.Tensor) -> torch.Tensor:
        """The newest (last) bracketing input."""
        return batch[:, self.plan.input_offsets[-1]][..., self.routing.output_from_data.to(batch.device)]

    def baseline(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        """The linear interpolation in time between the inputs that bracket each target (raw units; NaN where
        an input is missing, which the scores then leave out)."""
        inputs = batch[:, list(self.plan.input_offsets)][..., self.routing.output_from_data.to(batch.device)]
        states = [sum(weight * inputs[:, t] for t, weight in enumerate(row) if weight)  # only the two around it
                  for row in interpolation_weights(self.plan)[:steps]]
        return torch.stack(states, dim=1)  # type: ignore[arg-type]

    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """Mean loss over the targets; ``missing`` masks imputed target points out of the loss."""
        steps = self.validation_steps
        predictions, targets = self.predict(model, batch), self.targets(batch, steps)
        masks = self.targets(missing, steps) if missing is not None else None
        total = batch.new_zeros(())
        for s in range(steps):
            extra = {"nan_mask": masks[:, s]} if masks is not None else {}
            total = total + loss_fn(predictions[:, s], targets[:, s], lead_time_index=s, **extra)
        return total / steps

    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        steps = steps or self.validation_steps
        return RolloutResult(self.predict(model, batch)[:, :steps], self.targets(batch, steps))
