"""The sample window of each task kind: one formula the compiler and the runtime share."""

from __future__ import annotations

import pytest

from anemoic.plan.model import RolloutPlan, TaskPlan
from anemoic.plan.windows import interpolation_weights, output_steps, sample_offsets, window_length

FORECASTER = TaskPlan(kind="forecaster", timestep_s=3600, multistep_input=2,
                      rollout=RolloutPlan(start=1, increment=1, maximum=3, validation=4))
DOWNSCALER = TaskPlan(kind="temporal_downscaler", timestep_s=3600, multistep_input=3, input_offsets=(0, 2, 6),
                      target_offsets=(1, 3, 5))


def test_a_forecaster_reads_its_inputs_then_its_longest_rollout() -> None:
    assert sample_offsets(FORECASTER, "train") == (0, 1, 2, 3, 4)
    assert window_length(FORECASTER, "validate") == 6
    assert output_steps(FORECASTER) == 1


def test_a_downscaler_reads_its_inputs_and_the_targets_between_them_in_every_split() -> None:
    assert sample_offsets(DOWNSCALER, "train") == sample_offsets(DOWNSCALER, "validate") == (0, 2, 6, 1, 3, 5)
    assert window_length(DOWNSCALER, "train") == 7
    assert output_steps(DOWNSCALER) == 3


def test_each_target_interpolates_between_the_inputs_either_side() -> None:
    weights = interpolation_weights(DOWNSCALER)
    assert weights[0] == pytest.approx((0.5, 0.5, 0.0))
    assert weights[1] == pytest.approx((0.0, 0.75, 0.25))
    assert weights[2] == pytest.approx((0.0, 0.25, 0.75))
    assert all(sum(row) == pytest.approx(1.0) for row in weights)
