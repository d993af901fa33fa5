"""The time structure of a training sample, declared once per task kind (as anemoi's ``BaseTask.get_offsets``).

A sample is a window of states ``timestep`` apart; ``sample_offsets`` says which offsets (in
timesteps from the first input state) it holds, inputs first.  The compiler checks that every period
holds such a window, and the runtime's tasks (``anemoic.runtime.tasks``) give the data module the
same offsets, so the window is computed in exactly one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from anemoic.plan.kinds import TaskKind
from anemoic.plan.model import TaskPlan

Split = Literal["train", "validate"]


def _forecaster(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """``multistep_input`` inputs, then one target per rollout step: the longest rollout of the split."""
    rollout = task.rollout.maximum if split == "train" else task.rollout.validation
    return tuple(range(task.multistep_input + rollout))


def _autoencoder(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """One state: the autoencoder reconstructs the state at t from the state at t."""
    return (0,)


OFFSETS: dict[TaskKind, Callable[[TaskPlan, Split], tuple[int, ...]]] = {"forecaster": _forecaster,
                                                                         "autoencoder": _autoencoder}


def sample_offsets(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """Offsets (in timesteps, from the first input state) of the states one sample of ``split`` holds."""
    return OFFSETS[task.kind](task, split)


def window_length(task: TaskPlan, split: Split) -> int:
    """States in the window that holds a sample of ``split`` (the last offset plus one)."""
    return max(sample_offsets(task, split)) + 1
