"""The committed schema equals the generated one, and hand-broken plans get a message naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anemoic.plan import schema
from anemoic.plan.canonical import file_dict, hash_content
from anemoic.plan.errors import PlanError
from anemoic.plan.io import read_plan
from anemoic.plan.model import SCHEMA_VERSION
from tests.factories import make_plan


def test_committed_schema_is_the_generated_one() -> None:
    assert schema.SCHEMA_PATH.read_text() == schema.schema_text(), (
        "anemoic/plan/plan.schema.json is stale: run `python -m anemoic.plan.schema`")
    assert schema.main(["--check"]) == 0


def test_schema_covers_every_dataclass_field() -> None:
    built = schema.build_schema()
    assert set(built["required"]) >= {"dataset", "variables", "plan_hash", "source_map", "schema_version"}
    assert built["$defs"]["TrainingPlan"]["additionalProperties"] is False
    assert built["$defs"]["OptimiserPlan"]["properties"]["betas"]["maxItems"] == 2


def _broken(tmp_path: Path, change) -> Path:
    data = file_dict(make_plan())
    change(data)
    data["plan_hash"] = hash_content(data)  # a consistent hash: the schema must catch it
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["training"].pop("epochs"), "training: required field 'epochs' is missing"),
        (lambda d: d["model"].__setitem__("colour", "red"), "model: unknown field 'colour'"),
        (lambda d: d["training"]["optimiser"].__setitem__("lr", "fast"),
         'training.optimiser.lr: expected number, found "fast"'),
        (lambda d: d["variables"][3].__setitem__("store_index", None),
         "variables[3].store_index: expected integer, found null"),
        (lambda d: d["dataset"].__setitem__("test", 5), "dataset.test"),
        (lambda d: d["training"]["optimiser"].__setitem__("betas", [0.9]), "training.optimiser.betas"),
        (lambda d: d["indices"].__setitem__("input", "z_500"), "indices.input: expected array"),
        (lambda d: d["graph"]["hidden"]["params"].__setitem__("refinement", {"a": 1}),
         "graph.hidden.params.refinement"),
        (lambda d: d.__setitem__("source_map", {"seed": 3}), "source_map.seed: expected string"),
        (lambda d: d["task"].__setitem__("kind", "interpolator"),
         "task.kind: 'interpolator' is not one of "
         "['forecaster', 'temporal_downscaler', 'autoencoder', 'spatial_downscaler']"),
        (lambda d: d["training"]["optimiser"].__setitem__("kind", "sgd"),
         "training.optimiser.kind: 'sgd' is not one of ['adamw']"),
        (lambda d: d["variables"][0].__setitem__("normaliser", "zscore"), "variables[0].normaliser: 'zscore' is not one of"),
    ],
)
def test_hand_broken_plans_name_the_field(tmp_path: Path, change, message: str) -> None:
    with pytest.raises(PlanError) as info:
        read_plan(_broken(tmp_path, change))
    assert message in str(info.value)
    assert f"does not match the plan schema (version {SCHEMA_VERSION})" in str(info.value)


def test_malformed_hash_is_a_schema_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    data = file_dict(make_plan())
    data["plan_hash"] = "abc"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="plan_hash: 'abc' does not match"):
        read_plan(path)


def test_format_path() -> None:
    assert schema.format_path(["variables", 3, "name"]) == "variables[3].name"
    assert schema.format_path([]) == "(top level)"
