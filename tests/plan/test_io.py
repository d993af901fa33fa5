"""plan.json round trip, atomic writes, and every refusal of ``read_plan``."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from anemoic.plan.canonical import canonical_json, plan_hash
from anemoic.plan.convert import plan_to_dict
from anemoic.plan.errors import PlanError
from anemoic.plan.io import read_plan, read_plan_dict, read_plan_with_notes, write_plan
from anemoic.plan.model import SCHEMA_VERSION, InitPlan, SweepMemberPlan, TaskPlan
from tests.factories import make_plan


def _written(tmp_path: Path, **overrides: object) -> Path:
    path = tmp_path / "plan.json"
    write_plan(make_plan(**overrides), path)
    return path


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_round_trip_gives_an_equal_plan(tmp_path: Path) -> None:
    plan = make_plan(**{"sweep": SweepMemberPlan("lr", 1, 3, {"training.optimiser.lr": 1e-3}),
                        "graph.hidden.params": {"refinement": 2, "levels": (1, 2)},
                        "source_map": {"training.optimiser.lr": "exp.anm:3:5"}})
    path = tmp_path / "plan.json"
    digest = write_plan(plan, path)
    back = read_plan(path)
    assert back == plan
    assert digest == plan_hash(plan) == json.loads(path.read_text())["plan_hash"]
    assert isinstance(back.graph.hidden.params["levels"], tuple)
    assert isinstance(back.training.optimiser.betas, tuple)


def test_same_plan_same_bytes(tmp_path: Path) -> None:
    write_plan(make_plan(), tmp_path / "a.json")
    write_plan(make_plan(), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.json").read_text() == canonical_json(make_plan())


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = _written(tmp_path)
    first = path.read_bytes()
    write_plan(make_plan(seed=7), path)
    assert path.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    path = _written(tmp_path)
    before = path.read_bytes()
    with pytest.raises(PlanError, match="finite"):
        write_plan(make_plan(**{"training.optimiser.lr": float("nan")}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_write_refuses_a_schema_violation(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match=r"training\.epochs: expected integer"):
        write_plan(make_plan(**{"training.epochs": "ten"}), tmp_path / "plan.json")


def test_unwritable_directory_is_a_plan_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PlanError, match="cannot write the plan"):
        write_plan(make_plan(), blocker / "plan.json")


def test_hand_edit_is_refused_by_the_hash(tmp_path: Path) -> None:
    path = _written(tmp_path)
    _edit(path, lambda d: d["training"]["optimiser"].__setitem__("lr", 0.1))
    with pytest.raises(PlanError, match="was changed after it was built"):
        read_plan(path)


def test_source_map_edit_keeps_the_hash_valid(tmp_path: Path) -> None:
    path = _written(tmp_path)
    _edit(path, lambda d: d["source_map"].__setitem__("seed", "moved.anm:99:1"))
    assert read_plan(path).source_map == {"seed": "moved.anm:99:1"}


def test_estimates_edit_keeps_the_hash_valid(tmp_path: Path) -> None:
    path = _written(tmp_path)
    _edit(path, lambda d: d["estimates"].__setitem__("parameter_count", 99))
    assert read_plan_with_notes(path) == (make_plan(**{"estimates.parameter_count": 99}), [])


def test_reindented_file_still_reads(tmp_path: Path) -> None:
    path = _written(tmp_path)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=None))
    assert read_plan(path) == make_plan()


def test_integer_written_as_float_is_refused(tmp_path: Path) -> None:
    path = _written(tmp_path)
    text = path.read_text().replace('"epochs": 1,', '"epochs": 1.0,')
    data = json.loads(text)
    from anemoic.plan.canonical import hash_content
    data["plan_hash"] = hash_content(data)
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="canonical form"):
        read_plan(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"is not valid JSON \(line 1, column 2"),
        ('{"schema_version": 1,', "is not valid JSON"),
        ("[1, 2]", "holds a JSON list, not a plan object"),
        ('{"seed": 1}', "has no valid schema_version"),
        ('{"schema_version": "1"}', "has no valid schema_version"),
        ('{"schema_version": 99}', f"reads only up to version {SCHEMA_VERSION}"),
        ('{"schema_version": 0}', "cannot read"),
        ('{"schema_version": 1, "x": NaN}', "only finite numbers"),
    ],
)
def test_unreadable_files_are_refused_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "plan.json"
    path.write_text(text)
    with pytest.raises(PlanError, match=message):
        read_plan(path)


def test_missing_file_tells_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="does not exist. Build it with `anemoic build"):
        read_plan(tmp_path / "nope.json")


def test_read_plan_dict_returns_verified_json(tmp_path: Path) -> None:
    path = _written(tmp_path)
    data = read_plan_dict(path)
    assert data["plan_hash"] == plan_hash(make_plan())
    assert data["schema_version"] == SCHEMA_VERSION


def test_file_mode_is_readable(tmp_path: Path) -> None:
    path = _written(tmp_path)
    assert os.stat(path).st_mode & 0o444 == 0o444


DOWNSCALER = TaskPlan(kind="temporal_downscaler", timestep_s=6 * 3600, multistep_input=2, input_offsets=(0, 3),
                      target_offsets=(1, 2))


def test_fields_added_within_the_schema_are_left_out_at_their_default(tmp_path: Path) -> None:
    """A forecaster's plan is written, and hashed, as before the downscaler's offsets existed; a file without
    them reads; a downscaler's plan holds them and reads back equal."""
    forecaster = _written(tmp_path)
    task = json.loads(forecaster.read_text())["task"]
    assert "input_offsets" not in task and "target_offsets" not in task
    assert read_plan(forecaster).task.target_offsets == ()
    downscaler = make_plan(task=DOWNSCALER)
    path = tmp_path / "downscaler.json"
    write_plan(downscaler, path)
    assert json.loads(path.read_text())["task"]["target_offsets"] == [1, 2]
    assert read_plan(path) == downscaler and plan_hash(read_plan(path)) == plan_hash(downscaler)


def test_training_debug_is_left_out_at_its_default_and_hashed_when_on(tmp_path: Path) -> None:
    """``training.debug`` joined schema 3 late: a plan without it is written, read and hashed as before."""
    path = _written(tmp_path)
    assert "debug" not in json.loads(path.read_text())["training"]
    assert read_plan(path).training.debug is False
    plain, debug = make_plan(), make_plan(**{"training.debug": True})
    assert plan_hash(plain) != plan_hash(debug)
    path = tmp_path / "debug.json"
    write_plan(debug, path)
    assert json.loads(path.read_text())["training"]["debug"] is True and read_plan(path) == debug


def test_training_init_is_left_out_at_its_default_and_read_back(tmp_path: Path) -> None:
    """``training.init`` (ADDED_IN_SCHEMA): a plan without it is written, hashed and read as before it existed."""
    plan = make_plan()
    assert "init" not in plan_to_dict(plan)["training"]
    write_plan(plan, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json") == plan
    init = InitPlan("/runs/ae", ("encoder",))
    warm = dataclasses.replace(plan, training=dataclasses.replace(plan.training, init=init))
    assert plan_to_dict(warm)["training"]["init"] == {"checkpoint": "/runs/ae", "parts": ["encoder"]}
    write_plan(warm, tmp_path / "warm.json")
    assert read_plan(tmp_path / "warm.json") == warm
