"""The rollout schedule: how many autoregressive steps the loss sees in a given epoch."""

from __future__ import annotations

from anemoic.plan.model import RolloutPlan


def rollout_steps(rollout: RolloutPlan, epoch: int) -> int:
    """``start``, plus ``increment`` every ``every_epochs`` epochs, capped at ``maximum``."""
    every = max(1, rollout.every_epochs)
    return max(1, min(rollout.maximum, rollout.start + rollout.increment * (epoch // every)))
