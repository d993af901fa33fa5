"""The time structure of a training sample, declared once per task kind (as anemoi's ``BaseTask.get_offsets``).

A sample is a window of states ``timestep`` apart; ``sample_offsets`` says which offsets (in
timesteps from the first input state) it holds, inputs first: a forecaster's inputs and rollout targets
follow each other, a temporal downscaler's targets lie between its bracketing inputs, an autoencoder
holds one state, and so does a spatial downscaler (the coarse and the fine field at one time).  The compiler
checks that every period holds such a window, and the runtime's tasks (``anemoic.runtime.tasks``) give
the data module the same offsets, so the window is computed in exactly one place.
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


def _temporal_downscaler(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """The bracketing inputs, then the targets between them: the same window in every split (no rollout)."""
    return (*task.input_offsets, *task.target_offsets)


def _autoencoder(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """One state: the autoencoder reconstructs the state at t from the state at t."""
    return (0,)


def _spatial_downscaler(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """One valid time: the coarse field at t gives the fine field at t."""
    return (0,)


OFFSETS: dict[TaskKind, Callable[[TaskPlan, Split], tuple[int, ...]]] = {
    "forecaster": _forecaster,
    "temporal_downscaler": _temporal_downscaler,
    "autoencoder": _autoencoder,
    "spatial_downscaler": _spatial_downscaler,
}


def sample_offsets(task: TaskPlan, split: Split) -> tuple[int, ...]:
    """Offsets (in timesteps, from the first input state) of the states one sample of ``split`` holds."""
    return OFFSETS[task.kind](task, split)


def window_length(task: TaskPlan, split: Split) -> int:
    """States in the window that holds a sample of ``split`` (the last offset plus one)."""
    return max(sample_offsets(task, split)) + 1


def output_steps(task: TaskPlan) -> int:
    """States one call of the model predicts: the next one (a forecaster), or every target (a downscaler)."""
    return len(task.target_offsets) if task.kind == "temporal_downscaler" else 1


def interpolation_weights(task: TaskPlan) -> tuple[tuple[float, ...], ...]:
    """For each target of a downscaler, the weight of each input in the linear interpolation between the two
    inputs that bracket it (one row per target, one column per input; each row sums to 1)."""
    rows = []
    inputs = task.input_offsets
    for target in task.target_offsets:
        right = next(i for i, offset in enumerate(inputs) if offset > target)
        left = right - 1
        fraction = (target - inputs[left]) / (inputs[right] - inputs[left])
        rows.append(tuple(1.0 - fraction if i == left else fraction if i == right else 0.0
                          for i in range(len(inputs))))
    return tuple(rows)
