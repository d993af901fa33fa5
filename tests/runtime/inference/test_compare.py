"""`compare` scores runs only when they verify the same states; otherwise one message says why (golden)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from anemoic.plan.model import BoundaryPlan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.compare import _same_samples
from tests.factories import make_plan
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
STARTS = np.array(["2020-01-21T00:00", "2020-01-21T06:00"], dtype="datetime64[s]")


def _run(plan=None, starts=STARTS) -> SimpleNamespace:
    return SimpleNamespace(plan=plan or make_plan(), starts=starts)


def test_runs_of_the_same_store_variables_timestep_and_samples_compare() -> None:
    _same_samples(_run(), _run(make_plan(**{"model.channels": 8})), "other")


@pytest.mark.parametrize("other", [
    _run(make_plan(**{"task.timestep_s": 43200})),
    _run(make_plan(**{"dataset.fingerprint": "1" * 64})),
    _run(starts=STARTS[:1]),
    _run(make_plan(**{"boundary": BoundaryPlan(make_plan().dataset, make_plan().variables, 300.0, forced=False)})),
])
def test_runs_that_verify_other_states_are_refused(other: SimpleNamespace) -> None:
    with pytest.raises(RuntimeUserError, match="the scores would not be comparable"):
        _same_samples(_run(), other, "runs/other")


def test_the_refusal_says_what_differs() -> None:
    plan = make_plan()
    other = dataclasses.replace(plan, indices=dataclasses.replace(plan.indices, output=plan.indices.output[:-1]))
    with pytest.raises(RuntimeUserError) as info:
        _same_samples(_run(plan), _run(other), "runs/other")
    assert_golden(str(info.value) + "\n", GOLDEN / "compare_other_variables.txt")
