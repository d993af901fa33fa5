"""Impact classes of plan differences, and the text people read about them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from anemoic.plan.diff import ABSENT, Impact, diff_plans, impact_of, worst_impact
from anemoic.plan.diff_text import render_differences
from anemoic.plan.model import LossTermPlan, NoisePlan, VariablePlan
from tests.factories import make_plan
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def _only(a, b):
    diffs = diff_plans(a, b)
    assert len(diffs) == 1, diffs
    return diffs[0]


def test_identical_plans_have_no_differences() -> None:
    assert diff_plans(make_plan(), make_plan()) == []
    assert worst_impact([]) is None


def test_source_map_and_estimates_are_not_differences() -> None:
    a = make_plan(**{"source_map": {"seed": "a.anm:1:1"}, "estimates.parameter_count": 5})
    assert diff_plans(a, make_plan()) == []


@pytest.mark.parametrize(
    ("path", "value", "impact"),
    [
        ("training.optimiser.lr", 1e-3, Impact.RESUMABLE),
        ("training.schedule.warmup_steps", 10, Impact.RESUMABLE),
        ("training.epochs", 5, Impact.RESUMABLE),
        ("outputs.checkpoint_every_minutes", 5, Impact.RESUMABLE),
        ("outputs.tracking.experiment", "other", Impact.RESUMABLE),
        ("parallel.processes_per_node", 4, Impact.RESUMABLE),
        ("model.gradient_checkpointing", True, Impact.RESUMABLE),
        ("model.num_chunks", 2, Impact.RESUMABLE),
        ("parallel.shard_strategy", "heads", Impact.RESUMABLE),
        ("dataset.train.end", "2020-01-10T00:00:00", Impact.RESUMABLE),
        ("task.rollout.maximum", 12, Impact.WARM_STARTABLE),
        ("loss.metrics", ("rmse", "mae"), Impact.WARM_STARTABLE),
        ("dataset.fingerprint", "1" * 64, Impact.WARM_STARTABLE),
        ("model.channels", 64, Impact.INCOMPATIBLE),
        ("model.processor", "gnn", Impact.INCOMPATIBLE),
        ("graph.hidden.params", {"refinement": 2}, Impact.INCOMPATIBLE),
        ("task.multistep_input", 1, Impact.INCOMPATIBLE),
        ("dataset.grid_size", 99, Impact.INCOMPATIBLE),
        ("task.method.kind", "ensemble", Impact.INCOMPATIBLE),
        ("task.method.noise", NoisePlan("inject"), Impact.INCOMPATIBLE),
        ("task.method.members", 8, Impact.WARM_STARTABLE),
    ],
)
def test_impact_of_a_single_change(path: str, value: object, impact: Impact) -> None:
    diff = _only(make_plan(), make_plan(**{path: value}))
    assert diff.impact is impact
    assert diff.path.startswith(path)


def test_normaliser_change_is_incompatible_and_addressed_by_name() -> None:
    plan = make_plan()
    variables = tuple(dataclasses.replace(v, normaliser="min_max") if v.name == "2t" else v
                      for v in plan.variables)
    diff = _only(plan, dataclasses.replace(plan, variables=variables))
    assert (diff.path, diff.old, diff.new, diff.impact) == (
        "variables[2t].normaliser", "mean_std", "min_max", Impact.INCOMPATIBLE)


def test_new_diagnostic_variable_is_warm_startable_new_input_is_not() -> None:
    plan = make_plan()
    extra = VariablePlan(name="cp", role="diagnostic", store_index=10, normaliser="std")
    grown = dataclasses.replace(plan, variables=plan.variables + (extra,),
                                indices=dataclasses.replace(plan.indices, output=plan.indices.output + ("cp",)))
    diffs = {d.path: d for d in diff_plans(plan, grown)}
    assert diffs["variables[cp]"].old is ABSENT
    assert diffs["variables[cp]"].impact is Impact.WARM_STARTABLE
    assert diffs["indices.output"].impact is Impact.WARM_STARTABLE
    assert impact_of("variables[cp]", ABSENT, {"role": "forcing"}) is Impact.INCOMPATIBLE
    assert impact_of("indices.input") is Impact.INCOMPATIBLE


def test_unknown_field_is_incompatible() -> None:
    assert impact_of("something_new.x") is Impact.INCOMPATIBLE


def test_loss_terms_are_compared_by_position() -> None:
    b = make_plan(**{"loss.terms": (LossTermPlan("mae", scalers=("variable", "node_weights")),)})
    diff = _only(make_plan(), b)
    assert (diff.path, diff.impact) == ("loss.terms[0].kind", Impact.WARM_STARTABLE)


def test_sources_come_from_each_plan() -> None:
    a = make_plan(**{"source_map": {"training": "a.anm:10:1"}})
    b = make_plan(**{"training.optimiser.lr": 1e-3, "source_map": {"training.optimiser.lr": "b.anm:3:8"}})
    diff = _only(a, b)
    assert (diff.source_a, diff.source_b) == ("a.anm:10:1", "b.anm:3:8")


def test_worst_impact() -> None:
    a = make_plan()
    b = make_plan(**{"training.optimiser.lr": 1e-3, "model.layers": 4})
    assert worst_impact(diff_plans(a, b)) is Impact.INCOMPATIBLE


def test_rendered_differences_golden() -> None:
    a = make_plan(**{"source_map": {"training.optimiser.lr": "a.anm:20:14", "model": "a.anm:12:1",
                                    "task.rollout": "a.anm:15:3"}})
    plan = make_plan()
    b = make_plan(**{
        "training.optimiser.lr": 1e-3, "model.channels": 64, "task.rollout.maximum": 12,
        "indices.output": plan.indices.output + ("cp",),
        "loss.scalers": (dataclasses.replace(plan.loss.scalers[0], weights=tuple(0.5 for _ in range(40))),
                         plan.loss.scalers[1]),
        "source_map": {"training.optimiser.lr": "b.anm:20:14", "model.channels": "b.anm:12:30",
                       "task.rollout": "a.anm:15:3"},
    })
    text = render_differences(diff_plans(a, b), "a.anm", "b.anm")
    assert_golden(text, GOLDEN / "differences.txt")
    assert render_differences([], "a.anm", "b.anm") == "no differences: a.anm and b.anm resolve to the same plan\n"


@pytest.mark.parametrize("path", ["task.output_mask", "boundary.forced"])
def test_a_limited_area_model_and_a_stretched_grid_do_not_resume_each_other(path: str) -> None:
    """The same grid and weights (a warm start), but another loss, other scores and another rollout."""
    assert impact_of(path) == Impact.WARM_STARTABLE
