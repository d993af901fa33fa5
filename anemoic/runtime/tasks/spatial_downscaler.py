"""Spatial downscaler: the fine field at t from the coarse field at t (anemoi-core has a preprocessor and an
open request, its issue 1402).

A sample holds two states over the model's grid, the coarse points then the fine ones, both at one valid time
(``runtime.data.pairs``): state 0 is the input (the coarse field, and on the fine points its interpolation
onto them), state 1 the truth.  The model reads state 0 and, with ``prediction = "state"``, adds its output
to it, so on the fine points the network learns the departure from the interpolated coarse field.  The
node weights are zero on the coarse points, so losses and scores see the fine grid alone (E1421 makes the
loss weigh its points).  There is one "lead" (offset 0) and no rollout; the baseline the scores are compared
with is the interpolation itself, in physical units.  An ensemble grows state 0 into its members, as the
forecaster does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from anemoic.plan.model import Plan, TaskPlan
from anemoic.runtime.tasks.base import LossFn, Model, RolloutResult, Task
from anemoic.runtime.tasks.indices import RoutingIndices

INPUT, TRUTH = 0, 1  # the two states of a sample


@dataclass(frozen=True)
class SpatialDownscalerTask(Task):
    plan: TaskPlan
    routing: RoutingIndices
    baseline_name: ClassVar[str] = "bilinear"

    @classmethod
    def from_plan(cls, plan: Plan, *, tendency_scale: torch.Tensor | None = None) -> SpatialDownscalerTask:
        return cls(plan.task, RoutingIndices.from_plan(plan.indices))

    @property
    def validation_steps(self) -> int:
        return 1

    def lead_offsets(self, steps: int) -> tuple[int, ...]:
        return (0,)

    def rollout_for_epoch(self, epoch: int) -> int:
        return 1

    def predict(self, model: Model, batch: torch.Tensor) -> torch.Tensor:
        """``(B, 1, E, G, V_out)``: the fine field (and the coarse points' echo) of the normalised ``batch``."""
        x = self.members_of(batch[:, INPUT:INPUT + 1][..., self.routing.input_from_data.to(batch.device)])
        return model(x).unsqueeze(1)

    def target_times(self, steps: int) -> list[int]:
        return [TRUTH]

    def targets(self, batch: torch.Tensor, steps: int = 1) -> torch.Tensor:
        return batch[:, TRUTH:TRUTH + 1][..., self.routing.output_from_data.to(batch.device)]

    def initial_position(self) -> int:
        return INPUT

    def last_input(self, batch: torch.Tensor) -> torch.Tensor:
        """The input state: the coarse field, interpolated onto the fine points."""
        return batch[:, INPUT][..., self.routing.output_from_data.to(batch.device)]

    def baseline(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        """The interpolated coarse field on the fine points (raw units), ``(B, 1, E, G, V_out)``."""
        return self.last_input(batch).unsqueeze(1)

    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """The loss on the fine points (the node weights leave the coarse ones out); ``missing`` masks imputed
        targets out of it."""
        extra = {"nan_mask": self.targets(missing)[:, 0]} if missing is not None else {}
        return loss_fn(self.predict(model, batch)[:, 0], self.targets(batch)[:, 0], lead_time_index=0, **extra)

    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        return RolloutResult(self.predict(model, batch), self.targets(batch))
