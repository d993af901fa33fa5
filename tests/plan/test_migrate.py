"""Plan files of schemas 1 and 2 read as the current schema (3): verified under their own hash rule, converted
step by step, and said so.

``fixtures/quickstart_schema1.plan.json`` was written by anemoic at commit 5eb0915 (plan schema 1):
``anemoic build examples/quickstart.anm --target local`` in /tmp/anemoic-schema1, unedited.
``fixtures/quickstart_schema2.plan.json`` was written by anemoic at commit 1b96663 (plan schema 2): the same
command in /work/wt-ensemble, unedited.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from anemoic.plan.canonical import hash_content, plan_hash
from anemoic.plan.convert import plan_to_dict
from anemoic.plan.errors import PlanError, PlanNote
from anemoic.plan.io import read_plan, read_plan_dict, read_plan_with_notes, write_plan
from anemoic.plan.migrate import HASHED_WITHOUT
from tests.golden import assert_golden

SCHEMA1 = Path(__file__).parent / "fixtures" / "quickstart_schema1.plan.json"
SCHEMA2 = Path(__file__).parent / "fixtures" / "quickstart_schema2.plan.json"
DETERMINISTIC = {"kind": "deterministic", "members": 1, "noise": None}
ADDED_IN_3 = {("parallel", "shard_strategy"): "edges", ("parallel", "read_group_size"): 1,
              ("parallel", "keep_batch_sharded"): False, ("model", "num_chunks"): 1}
GOLDEN = Path(__file__).parent / "golden"


def _schema1(tmp_path: Path, change: Callable[[dict[str, Any]], Any] | None = None, *, rehash: bool = True) -> Path:
    """A copy of the schema-1 fixture as ``plan.json``, changed and (unless told not to) re-hashed the schema-1 way."""
    path = tmp_path / "plan.json"
    if change is None:
        shutil.copy(SCHEMA1, path)
        return path
    data = json.loads(SCHEMA1.read_text())
    change(data)
    if rehash:
        data["plan_hash"] = hash_content(data, HASHED_WITHOUT[1])
    path.write_text(json.dumps(data, indent=2))
    return path


def test_the_fixture_is_a_genuine_schema_1_file() -> None:
    data = json.loads(SCHEMA1.read_text())
    assert data["schema_version"] == 1 and data["estimates"]["parameter_count"] > 0
    assert data["plan_hash"] == hash_content(data, ("source_map", "plan_hash"))
    assert data["plan_hash"] != hash_content(data)  # the schema-2 rule leaves the estimates out


def test_a_schema_1_plan_reads_as_schema_3_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _schema1(tmp_path)
    plan, notes = read_plan_with_notes("plan.json")
    assert len(notes) == 1
    assert_golden(notes[0] + "\n", GOLDEN / "migrate_note.txt")
    assert plan.schema_version == 3 and plan.loss.metrics == ("rmse",)
    assert plan.task.method.kind == "deterministic" and plan.task.method.members == 1
    assert plan.parallel.shard_strategy == "edges" and plan.model.num_chunks == 1


def test_the_conversion_changes_exactly_the_named_fields(tmp_path: Path) -> None:
    expected = json.loads(SCHEMA1.read_text())
    parallel = expected["parallel"]
    parallel["processes_per_node"] = parallel.pop("gpus_per_node")
    for section, name in (("parallel", "read_group_size"), ("parallel", "ensemble_size_per_device"),
                          ("parallel", "shard_strategy"), ("model", "num_chunks"), ("task", "ensemble_members"),
                          ("task", "params"), ("indices", "target")):
        del expected[section][name]
    expected["loss"]["metrics"] = ["rmse"]
    expected["task"]["method"] = DETERMINISTIC
    expected["schema_version"] = 3
    for (section, name), value in ADDED_IN_3.items():
        expected[section][name] = value
    del expected["source_map"]["model.num_chunks"]
    del expected["plan_hash"]
    plan, _ = read_plan_with_notes(_schema1(tmp_path))
    assert plan_to_dict(plan) == expected


def test_a_converted_plan_written_again_reads_without_a_note(tmp_path: Path) -> None:
    plan, _ = read_plan_with_notes(_schema1(tmp_path))
    again = tmp_path / "again.json"
    assert write_plan(plan, again) == plan_hash(plan)
    assert read_plan_with_notes(again) == (plan, [])


def test_read_plan_and_read_plan_dict_issue_the_note_as_a_warning(tmp_path: Path) -> None:
    path = _schema1(tmp_path)
    with pytest.warns(PlanNote, match=r"^note: .*plan\.json was written by an older anemoic \(plan schema 1\)"):
        plan = read_plan(path)
    with pytest.warns(PlanNote):
        data = read_plan_dict(path)
    assert data["schema_version"] == 3 and data["plan_hash"] == plan_hash(plan)


def test_the_note_names_only_what_changed(tmp_path: Path) -> None:
    path = _schema1(tmp_path, lambda d: d["loss"].__setitem__("metrics", ["rmse"]))
    _, notes = read_plan_with_notes(path)
    assert "loss.metrics" not in notes[0] and "parallel.gpus_per_node is now" in notes[0]


def test_sweep_values_follow_the_rename(tmp_path: Path) -> None:
    def sweep(data: dict[str, Any]) -> None:
        data["sweep"] = {"sweep": "layout", "index": 0, "count": 2,
                         "values": {"parallel.gpus_per_node": 1, "model.num_chunks": 1}}
    plan, _ = read_plan_with_notes(_schema1(tmp_path, sweep))
    assert plan.sweep is not None and plan.sweep.values == {"parallel.processes_per_node": 1}


@pytest.mark.parametrize("change", [
    lambda d: d["training"].__setitem__("epochs", 21),
    lambda d: d["estimates"].__setitem__("parameter_count", 1),  # schema 1 hashed the estimates
])
def test_a_tampered_schema_1_plan_is_refused(tmp_path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    with pytest.raises(PlanError, match="was changed after it was built"):
        read_plan_with_notes(_schema1(tmp_path, change, rehash=False))


def _target_variable(data: dict[str, Any]) -> None:
    data["variables"][0]["role"] = "target"


def _ensemble(data: dict[str, Any]) -> None:
    data["task"].update(kind="ensemble", ensemble_members=4)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["parallel"].__setitem__("read_group_size", 2),
     "parallel.read_group_size is 2, but schema 2 removed this field (no runtime read it) and reads only plans "
     "that left it at 1"),
    (lambda d: d["parallel"].__setitem__("read_group_size", True), "parallel.read_group_size is true"),
    (lambda d: d["task"].__setitem__("params", {"members": 2}), 'task.params is {"members": 2}'),
    (lambda d: d["indices"].__setitem__("target", ["sst"]), 'indices.target is ["sst"]'),
    (_ensemble, "task.ensemble_members is 4"),
    (lambda d: d["task"].__setitem__("kind", "ensemble"),
     "task.kind: 'ensemble' is not one of "
     "['forecaster', 'temporal_downscaler', 'autoencoder', 'spatial_downscaler']"),
    (lambda d: d["loss"]["terms"][0].__setitem__("kind", "crps"), 'loss.terms[0].kind is "crps", an ensemble loss'),
    (lambda d: d["variables"][2].__setitem__("remap", "boxcox"),
     "variables[2].remap: 'boxcox' is not one of ['log1p', 'sqrt']"),
    (_target_variable, "variables[0].role: 'target' is not one of"),
])
def test_a_value_the_current_schema_cannot_express_is_refused_naming_the_field(
        tmp_path: Path, change: Callable[[dict[str, Any]], Any], message: str) -> None:
    path = _schema1(tmp_path, change)
    with pytest.raises(PlanError) as info:
        read_plan_with_notes(path)
    text = str(info.value)
    assert text.startswith(f"the plan {path} was written by an older anemoic (plan schema "), text
    assert "and cannot be read as schema 3: " in text
    assert message in text
    assert text.endswith("Rebuild the plan from its source with `anemoic build`.")


def _schema2(tmp_path: Path, change: Callable[[dict[str, Any]], Any] | None = None) -> Path:
    """A copy of the schema-2 fixture as ``plan.json``, changed and re-hashed the schema-2 way."""
    data = json.loads(SCHEMA2.read_text())
    if change is not None:
        change(data)
        data["plan_hash"] = hash_content(data, HASHED_WITHOUT[2])
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def test_the_schema_2_fixture_is_genuine() -> None:
    data = json.loads(SCHEMA2.read_text())
    assert data["schema_version"] == 2 and "method" not in data["task"]
    assert not any(name in data[section] for section, name in ADDED_IN_3)
    assert data["plan_hash"] == hash_content(data, HASHED_WITHOUT[2])


def test_a_schema_2_plan_reads_as_schema_3_with_a_deterministic_method(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _schema2(tmp_path)
    plan, notes = read_plan_with_notes("plan.json")
    assert_golden(notes[0] + "\n", GOLDEN / "migrate_note_schema2.txt")
    expected = json.loads(SCHEMA2.read_text())
    expected["task"]["method"] = DETERMINISTIC
    for (section, name), value in ADDED_IN_3.items():
        expected[section][name] = value
    expected["schema_version"] = 3
    del expected["plan_hash"]
    assert plan_to_dict(plan) == expected


def test_a_schema_2_crps_term_is_refused_as_never_trained(tmp_path: Path) -> None:
    def crps(data: dict[str, Any]) -> None:
        data["loss"]["terms"][0].update(kind="crps", params={"alpha": 1.0})

    path = _schema2(tmp_path, crps)
    with pytest.raises(PlanError, match=r"\(plan schema 2\) and cannot be read as schema 3: loss\.terms\[0\]\.kind "
                                        r"is \"crps\", an ensemble loss, but a schema-2 plan trains one deterministic "
                                        r"member, so it never trained"):
        read_plan_with_notes(path)


def test_a_tampered_schema_2_plan_is_refused(tmp_path: Path) -> None:
    data = json.loads(SCHEMA2.read_text())
    data["training"]["epochs"] = 21
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="was changed after it was built"):
        read_plan_with_notes(path)
