"""The rollout schedule: start, +increment every `every_epochs` epochs, capped at maximum."""

from __future__ import annotations

from anemoic.plan.model import RolloutPlan
from anemoic.runtime.tasks.rollout import rollout_steps


def test_schedule_grows_every_n_epochs_up_to_the_maximum() -> None:
    plan = RolloutPlan(start=1, increment=2, every_epochs=3, maximum=6)
    assert [rollout_steps(plan, e) for e in range(12)] == [1, 1, 1, 3, 3, 3, 5, 5, 5, 6, 6, 6]


def test_fixed_rollout() -> None:
    assert {rollout_steps(RolloutPlan(start=4, increment=0, maximum=4), e) for e in range(5)} == {4}
