"""Autoencoder: the state at t, through the hidden mesh, back to the state at t (anemoi's Autoencoder task).

A sample is one state (``plan.windows``: offset 0).  The model (built with ``ModelIO.bottleneck``) encodes it
onto the hidden mesh and decodes it back with no processor, no residual and no input state at the decoder's
destination nodes, so nothing reaches the output except through the mesh.  Forcings are inputs only;
prognostic and diagnostic variables are reconstructed.  There is one "lead" (index 0): the reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from anemoic.plan.model import Plan, TaskPlan
from anemoic.runtime.tasks.base import LossFn, Model, RolloutResult, Task
from anemoic.runtime.tasks.indices import RoutingIndices


@dataclass(frozen=True)
class AutoencoderTask(Task):
    plan: TaskPlan
    routing: RoutingIndices
    has_lead_times = False  # scores are per variable, not per lead; persistence would be the truth itself

    @classmethod
    def from_plan(cls, plan: Plan, *, tendency_scale: torch.Tensor | None = None) -> AutoencoderTask:
        return cls(plan.task, RoutingIndices.from_plan(plan.indices))

    def reconstruct(self, model: Model, batch: torch.Tensor) -> torch.Tensor:
        """``(B, 1, E, G, V_out)``: the model's reconstruction of the batch's one state."""
        x = batch[:, :1][..., self.routing.input_from_data.to(batch.device)]
        return model(x).unsqueeze(1)

    def target_times(self, steps: int) -> slice:
        return slice(0, 1)

    def targets(self, batch: torch.Tensor, steps: int = 1) -> torch.Tensor:
        return batch[:, :1][..., self.routing.output_from_data.to(batch.device)]

    def last_input(self, batch: torch.Tensor) -> torch.Tensor:
        return batch[:, 0][..., self.routing.output_from_data.to(batch.device)]

    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """The reconstruction loss; ``missing`` masks imputed points out of it."""
        extra = {"nan_mask": self.targets(missing)[:, 0]} if missing is not None else {}
        return loss_fn(self.reconstruct(model, batch)[:, 0], self.targets(batch)[:, 0], lead_time_index=0, **extra)

    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        return RolloutResult(self.reconstruct(model, batch), self.targets(batch))
