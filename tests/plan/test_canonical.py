"""Canonical JSON and the plan hash: stable, layout-free, source-map-free."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from anemoic.plan.canonical import UNHASHED_KEYS, canonical_json, dumps_canonical, hash_content, plan_hash
from anemoic.plan.errors import PlanError
from anemoic.plan.model import EstimatesPlan
from tests.factories import make_plan


def test_hash_ignores_the_source_map() -> None:
    assert plan_hash(make_plan()) == plan_hash(make_plan(source_map={"seed": "x.anm:1:1"}))


def test_hash_ignores_the_estimates() -> None:
    """Retuning the compile-time estimator must not change any plan's identity."""
    estimates = EstimatesPlan(graph_nodes={"data": 10}, parameter_count=123, activation_bytes_per_gpu=4, exact=True)
    assert plan_hash(make_plan()) == plan_hash(make_plan(estimates=estimates))
    assert UNHASHED_KEYS == ("source_map", "estimates", "plan_hash")


def test_hash_sees_every_other_field() -> None:
    assert plan_hash(make_plan()) != plan_hash(make_plan(seed=43))
    assert plan_hash(make_plan()) != plan_hash(make_plan(**{"graph.hidden.params": {"refinement": 2}}))


def test_int_and_float_spellings_of_a_float_field_hash_alike() -> None:
    assert plan_hash(make_plan(**{"training.optimiser.lr": 1})) == plan_hash(
        make_plan(**{"training.optimiser.lr": 1.0}))
    assert plan_hash(make_plan(**{"training.optimiser.weight_decay": -0.0})) == plan_hash(make_plan(
        **{"training.optimiser.weight_decay": 0.0}))


def test_canonical_form() -> None:
    assert dumps_canonical({"b": 1, "a": [0.1, 1e-7, 2.5e20]}) == '{"a":[0.1,1e-07,2.5e+20],"b":1}'
    assert hash_content({"a": 1, "source_map": {"x": "y"}}) == hash_content({"a": 1})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_with_the_path(bad: float) -> None:
    with pytest.raises(PlanError, match=r"graph\.hidden\.params\.x is"):
        canonical_json(make_plan(**{"graph.hidden.params": {"x": bad}}))


def test_hash_is_stable_across_processes() -> None:
    code = ("from tests.factories import make_plan; from anemoic.plan.canonical import plan_hash; "
            "print(plan_hash(make_plan()))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PYTHONPATH": "."})
    assert other.stdout.strip() == plan_hash(make_plan())


def test_file_text_is_indented_sorted_json() -> None:
    text = canonical_json(make_plan())
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["plan_hash"] == plan_hash(make_plan())
