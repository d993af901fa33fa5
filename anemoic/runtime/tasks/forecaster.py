"""Forecaster: multistep input, autoregressive rollout, forcings from the batch, diagnostics not fed back.

Tensors follow Anemoi's order ``(batch, time, ensemble, grid, variable)`` and are
normalised.  The model maps ``(B, T_in, E, G, V_in)`` to the next state
``(B, E, G, V_out)``: with ``prediction="state"`` the full next state (the
model adds the residual itself), with ``prediction="tendency"`` the prognostic
channels are the increment normalised by the tendency statistics, which
``to_state`` turns back into a state (``last + tendency * scale``, the scale
mapping tendency units onto state units per variable), so the
rollout always feeds states back and the loss always compares states.  With an ensemble method
(``plan.task.method.members`` above 1) the input states are grown into the members along E before
the first step; each member then rolls out on its own, and targets keep the data's single state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from anemoic.plan.model import Plan, TaskPlan
from anemoic.runtime.tasks.base import LossFn, Model, RolloutResult, Task
from anemoic.runtime.tasks.indices import RoutingIndices


@dataclass(frozen=True)
class ForecasterTask(Task):
    plan: TaskPlan
    routing: RoutingIndices
    tendency_scale: torch.Tensor | None = None  # (n_prognostic,) tendency stdev / state scale
    # a limited-area model's first grid point outside the output mask (the region's size): from there on the
    # data, not the prediction, is fed back at every step (anemoi's ``output_mask.rollout_boundary``)
    forced_from: int | None = None

    @classmethod
    def from_plan(cls, plan: Plan, *, tendency_scale: torch.Tensor | None = None) -> ForecasterTask:
        forced = plan.dataset.grid_size if plan.boundary is not None else None
        return cls(plan.task, RoutingIndices.from_plan(plan.indices), tendency_scale, forced)

    @property
    def multistep(self) -> int:
        return self.plan.multistep_input

    def to_state(self, prediction: torch.Tensor, last_input: torch.Tensor) -> torch.Tensor:
        if self.plan.prediction != "tendency":
            return prediction
        r = self.routing.to(prediction.device)
        increment = prediction[..., r.prognostic_in_output]
        if self.tendency_scale is not None:
            increment = increment * self.tendency_scale.to(increment)
        state = prediction.clone()
        state[..., r.prognostic_in_output] = last_input[..., r.prognostic_in_input] + increment
        return state

    def rollout(self, model: Model, batch: torch.Tensor, steps: int) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Yield ``(lead_index, predicted state, target)`` for ``steps`` autoregressive steps."""
        r = self.routing.to(batch.device)
        needed = self.forecast_window(self.plan, steps)
        if batch.shape[1] < needed:
            raise ValueError(f"a rollout of {steps} steps needs {needed} states, the batch has {batch.shape[1]}")
        x = self.members_of(batch[:, : self.multistep][..., r.input_from_data])
        for lead in range(steps):
            state = self.to_state(model(x), x[:, -1])
            now = self.multistep + lead
            yield lead, state, batch[:, now][..., r.output_from_data]
            if lead + 1 < steps:
                x = self._advance(x, state, batch[:, now], r)

    def _advance(self, x: torch.Tensor, state: torch.Tensor, observed: torch.Tensor, r: RoutingIndices
                 ) -> torch.Tensor:
        """Shift the input window: predicted prognostics and observed forcings become the newest step; a
        limited-area model's boundary points take the observed prognostics instead (boundary forcing)."""
        newest = x[:, -1].clone()
        newest[..., r.prognostic_in_input] = state[..., r.prognostic_in_output]
        newest[..., r.forcing_in_input] = observed[..., r.forcing_from_data]
        if self.forced_from is not None:
            outside = slice(self.forced_from, None)
            newest[..., outside, r.prognostic_in_input] = observed[..., outside, r.prognostic_from_data]
        return torch.cat([x[:, 1:], newest.unsqueeze(1)], dim=1)

    def target_times(self, steps: int) -> slice:
        return slice(self.multistep, self.multistep + steps)

    def targets(self, batch: torch.Tensor, steps: int) -> torch.Tensor:
        return batch[:, self.target_times(steps)][..., self.routing.output_from_data.to(batch.device)]

    def last_input(self, batch: torch.Tensor) -> torch.Tensor:
        return batch[:, self.multistep - 1][..., self.routing.output_from_data.to(batch.device)]

    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """Mean loss over this epoch's rollout; ``missing`` masks imputed target points out of the loss."""
        steps = self.rollout_for_epoch(epoch)
        total = batch.new_zeros(())
        masks = self.targets(missing, steps) if missing is not None else None
        for lead, state, target in self.rollout(model, batch, steps):
            extra = {"nan_mask": masks[:, lead]} if masks is not None else {}
            total = total + loss_fn(state, target, lead_time_index=lead, **extra)
        return total / steps

    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        steps = steps or self.plan.rollout.validation
        predictions, targets = [], []
        for _, state, target in self.rollout(model, batch, steps):
            predictions.append(state)
            targets.append(target)
        return RolloutResult(torch.stack(predictions, 1), torch.stack(targets, 1))
