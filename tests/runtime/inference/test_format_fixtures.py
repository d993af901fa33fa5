"""Checkpoints of every format version ever written keep loading (the committed fixtures, ``fixtures/format-*``), and a
format this anemoic cannot read is refused with the exact command that migrates or reads it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from anemoic.plan.model import SCHEMA_VERSION
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.catalogue import show_text
from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME, load_inference
from anemoic.runtime.training.checkpoints import load_checkpoint
from anemoic.runtime.training.lineage import plan_of
from tests.golden import assert_golden
from tests.runtime.inference.fixtures.make_format_fixtures import rollout
from tests.runtime.training.tiny_run import write_tiny_store

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
FORMATS = sorted(p for p in FIXTURES.iterdir() if p.name.startswith("format-"))
PLAN_FIXTURES = Path(__file__).parents[2] / "plan" / "fixtures"


def test_there_is_a_fixture_of_the_current_formats() -> None:
    from anemoic.runtime.inference.inference_checkpoint import FORMAT_VERSION
    from anemoic.runtime.training.lineage import LINEAGE_FORMAT

    assert FIXTURES / f"format-{LINEAGE_FORMAT}-{FORMAT_VERSION}" in FORMATS


@pytest.mark.parametrize("fixture", FORMATS, ids=lambda p: p.name)
def test_an_inference_checkpoint_predicts_what_it_did_without_the_store(fixture: Path) -> None:
    expected = load_file(fixture / "expected.safetensors")
    module = load_inference(fixture / "inference").module
    torch.testing.assert_close(rollout(module, expected["batch"]), expected["predictions"])
    assert show_text(fixture / "inference").splitlines()[0] == str(fixture / "inference")


@pytest.mark.parametrize("fixture", FORMATS, ids=lambda p: p.name)
def test_a_training_checkpoint_converts_into_the_same_model(fixture: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the fixture's plan names its store relative to the working directory
    write_tiny_store(Path("."))
    checkpoint = load_checkpoint(fixture / "training.ckpt")
    assert plan_of(checkpoint, "fixture").dataset.path == "tiny.zarr"
    assert convert_command([str(fixture / "training.ckpt")], output="out") == 0
    (converted,) = Path("out").iterdir()
    mine, theirs = load_inference(converted).module.state_dict(), load_inference(fixture / "inference").module.state_dict()
    assert all(mine[k].numpy().tobytes() == theirs[k].numpy().tobytes() for k in theirs) and mine.keys() == theirs.keys()
    expected = load_file(fixture / "expected.safetensors")
    torch.testing.assert_close(rollout(load_inference(converted).module, expected["batch"]), expected["predictions"])


def _with_format(tmp_path: Path, version: object) -> Path:
    target = tmp_path / f"v{version}"
    shutil.copytree(FORMATS[-1] / "inference", target)
    metadata = json.loads((target / METADATA_NAME).read_text())
    metadata["format_version"] = version
    metadata["provenance"]["parent"]["path"] = "runs/exp/checkpoints/step-00000100.ckpt"
    metadata["provenance"]["packages"]["anemoic"] = "9.1.0"
    (target / METADATA_NAME).write_text(json.dumps(metadata))
    return target


def test_an_unreadable_inference_format_is_refused_with_what_to_run(tmp_path: Path) -> None:
    messages = []
    for version in (0, 2, "1"):
        with pytest.raises(RuntimeUserError) as refused:
            load_inference(_with_format(tmp_path, version))
        messages.append(str(refused.value).replace(str(tmp_path), "TMP"))
    text = "\n".join(messages) + "\n"
    assert "anemoi-runtime checkpoint convert runs/exp/checkpoints/step-00000100.ckpt -o DIR" in messages[0]
    assert "pip install 'anemoic>=9.1.0'" in messages[1]
    import anemoic

    assert_golden(text.replace(anemoic.__version__, "VERSION"), GOLDEN / "inference_format_refused.txt")


def test_a_newer_training_format_is_refused_with_the_anemoic_to_install(tmp_path: Path) -> None:
    import anemoic

    checkpoint = load_checkpoint(FORMATS[-1] / "training.ckpt")
    checkpoint["anemoic"]["format"] = 2
    checkpoint["anemoic"]["code_version"] = "9.1.0"
    torch.save(checkpoint, tmp_path / "newer.ckpt")
    checkpoint["anemoic"]["format"] = None
    torch.save(checkpoint, tmp_path / "unknown.ckpt")
    messages = []
    for name in ("newer", "unknown"):
        with pytest.raises(RuntimeUserError) as refused:
            load_checkpoint(tmp_path / f"{name}.ckpt")
        messages.append(str(refused.value).replace(str(tmp_path), "TMP").replace(anemoic.__version__, "VERSION"))
    assert_golden("\n".join(messages) + "\n", GOLDEN / "training_format_refused.txt")


@pytest.mark.parametrize("schema", [1, 2])
def test_an_older_plan_in_a_checkpoint_is_converted_and_said_so(schema: int, capsys: pytest.CaptureFixture[str]) -> None:
    text = (PLAN_FIXTURES / f"quickstart_schema{schema}.plan.json").read_text()
    checkpoint = {"anemoic": {"format": 1, "plan_json": text, "plan_hash": json.loads(text)["plan_hash"]}}
    plan = plan_of(checkpoint, "runs/old/step-00000010.ckpt")
    assert plan.task.method.kind == "deterministic" and SCHEMA_VERSION == 3
    note = capsys.readouterr().err
    assert note.startswith(f"note: the plan stored in runs/old/step-00000010.ckpt was written by an older anemoic "
                           f"(plan schema {schema}); read as schema {SCHEMA_VERSION}:")


def test_a_hand_edited_plan_in_a_checkpoint_is_refused() -> None:
    text = (PLAN_FIXTURES / "quickstart_schema2.plan.json").read_text().replace('"name": "pacific"', '"name": "atlantic"')
    assert '"name": "atlantic"' in text
    with pytest.raises(RuntimeUserError, match="the plan stored in x.ckpt was changed after it was built"):
        plan_of({"anemoic": {"format": 1, "plan_json": text}}, "x.ckpt")
