"""`checkpoint list|show` over a local folder of inference checkpoints (golden texts)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.catalogue import find, list_text, show_text
from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME
from anemoic.runtime.training.checkpoints import list_checkpoints
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import TrainedRun, run_runtime, trained_run  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"


def _stable(text: str, *paths: Path) -> str:
    import anemoic

    for path in paths:
        text = text.replace(str(path), "TMP")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "CREATED", text)
    text = re.sub(r"(?m)^[0-9a-f]{8} ", "UUID8    ", text)  # the list's first column
    text = re.sub(r"(fingerprint |sha256 |  )[0-9a-f]{12}\b", r"\1HASH12", text)
    text = re.sub(r"\([0-9a-f]{64}\)", "(HASH)", text).replace(f"anemoic {anemoic.__version__}", "anemoic VERSION")
    return re.sub(r"(?m)^  code .*$", "  code        PACKAGES", text)


@pytest.fixture
def catalogue(trained_run: TrainedRun, tmp_path: Path) -> Path:  # noqa: F811
    folder = tmp_path / "catalogue"
    convert_command([str(p) for p in list_checkpoints(trained_run.run_dir / "checkpoints")[-2:]], output=str(folder))
    newer = folder / "newer-format"
    shutil.copytree(next(folder.iterdir()), newer)
    metadata = json.loads((newer / METADATA_NAME).read_text())
    metadata["format_version"] = 7
    (newer / METADATA_NAME).write_text(json.dumps(metadata))
    (folder / ".tmp-1-abc").mkdir()  # a convert's temporary is not an object
    return folder


def test_list_and_show(catalogue: Path, tmp_path: Path, trained_run: TrainedRun) -> None:  # noqa: F811
    listed = list_text(catalogue)
    assert len(listed.splitlines()) == 4
    uuid = json.loads((catalogue / "test-step-00000003" / METADATA_NAME).read_text())["uuid"]
    assert find(uuid[:6], catalogue) == find(str(catalogue / "test-step-00000003"), catalogue)
    shown = show_text(find(uuid[:6], catalogue))
    assert_golden(_stable(listed + "\n" + shown, tmp_path, trained_run.directory), GOLDEN / "catalogue_list_show.txt")
    assert list_text(tmp_path) == f"no inference checkpoints in {tmp_path}\n"


def test_show_refuses_what_it_cannot_find(catalogue: Path, tmp_path: Path) -> None:
    messages = []
    for identifier in ("nothing-like-this", ""):
        with pytest.raises(RuntimeUserError) as refused:
            find(identifier, catalogue)
        messages.append(str(refused.value))
    with pytest.raises(RuntimeUserError) as refused:
        list_text(tmp_path / "absent")
    messages.append(str(refused.value))
    assert_golden(_stable("\n".join(messages) + "\n", tmp_path), GOLDEN / "catalogue_refusals.txt")


def test_the_cli_lists_and_shows(catalogue: Path, tmp_path: Path) -> None:
    listed = run_runtime("checkpoint", "list", str(catalogue), cwd=tmp_path)
    shown = run_runtime("checkpoint", "show", "test-step-00000002", cwd=catalogue)
    assert listed.returncode == 0 and shown.returncode == 0, listed.stderr + shown.stderr
    assert listed.stdout == list_text(catalogue)
    assert shown.stdout.splitlines()[1:] == show_text(catalogue / "test-step-00000002").splitlines()[1:]
