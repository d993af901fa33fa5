"""`compare` scores runs only when they verify the same states, otherwise one message says why (golden), and
scores them all with the first run's area weights."""

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
from tests.runtime.lam import trained_lam  # noqa: F401  (the trained limited-area run)

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


def test_every_run_is_scored_with_the_first_runs_area_weights(trained_lam, tmp_path: Path) -> None:
    """A limited-area model's region cells are cut from its combined grid, so its own weights differ from those of
    a model of the region alone; compare scores both (and the baselines) with the first run's."""
    from anemoic.plan.io import write_plan
    from anemoic.runtime.inference.compare import compare
    from anemoic.runtime.inference.loading import load_trained
    from anemoic.runtime.training.evaluation import build_climatology, validation_scores
    from tests.runtime.lam import LAM_DEFAULTS
    from tests.runtime.training.tiny_run import run_runtime

    alone = make_plan(str(trained_lam.store), str(tmp_path / "alone"), **LAM_DEFAULTS)
    write_plan(dataclasses.replace(alone, dataset=dataclasses.replace(alone.dataset, name="pacific")),
               tmp_path / "alone.json")
    result = run_runtime("exec", str(tmp_path / "alone.json"), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    first, _, _, _ = load_trained(str(tmp_path / "alone"))
    lam, parts, _, _ = load_trained(str(trained_lam.run_dir))
    assert not np.allclose(first.node_weights.numpy(), lam.node_weights.numpy())  # the case this is about
    lam.node_weights = first.node_weights.clone()
    expected = validation_scores(lam, parts.data, build_climatology(parts.data), lam.plan.training.batch_size)
    table = compare([str(tmp_path / "alone"), str(trained_lam.run_dir)], leads=1)
    row = next(line for line in table.splitlines() if str(trained_lam.run_dir) in line)  # its first variable
    rmse = float(expected.score("model", "rmse")[0, 0])
    assert f"{rmse:.4g}" in row.split(), (row, rmse)
