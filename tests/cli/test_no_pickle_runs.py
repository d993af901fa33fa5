"""A checkpoint cannot run code: every command that opens one refuses a pickle payload in one line, and the payload's
file is never created.  Commands: `exec --resume` (resume and warm start read the checkpoint the same way),
`exec` continuing a restarted SLURM job, `predict`, `compare`, `checkpoint convert`; and an inference checkpoint
whose weights file is a pickle.  Loading an inference checkpoint resolves no pickle global at all."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME, WEIGHTS_NAME, load_inference
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, child_env, runtime_command, trained_run, write_tiny_plan,
)

GOLDEN = Path(__file__).parent / "golden"


class TouchesAFile:
    """Unpickling this runs ``os.system("touch PATH")``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return os.system, (f"touch {self.path}",)


class OpensAFile:
    """Unpickling this runs ``open(PATH, "w")``, which creates the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return open, (str(self.path), "w")


def _evil_checkpoint(path: Path, payload: object) -> Path:
    """Looks like an anemoic training checkpoint; its lineage record is the payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {"w": torch.zeros(2)}, "anemoic": {"format": 1, "plan_json": payload}}, path)
    return path


def _evil_inference_checkpoint(good: Path, target: Path, marker: Path) -> Path:
    """A converted checkpoint whose weights file is replaced by a torch pickle, the metadata's sha256 updated to match
    (so the loader gets as far as parsing it)."""
    shutil.copytree(good, target)
    torch.save({"w": TouchesAFile(marker)}, target / WEIGHTS_NAME)
    metadata = json.loads((target / METADATA_NAME).read_text())
    metadata["weights"]["sha256"] = hashlib.sha256((target / WEIGHTS_NAME).read_bytes()).hexdigest()
    (target / METADATA_NAME).write_text(json.dumps(metadata))
    return target


def test_every_command_that_opens_a_checkpoint_refuses_a_pickle_payload(
        trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    from anemoic.runtime.inference.convert import convert_command

    markers = {name: tmp_path / f"created-by-{name}" for name in
               ("resume", "requeued", "predict", "compare", "convert", "inference")}
    evil = {name: _evil_checkpoint(tmp_path / f"{name}.ckpt", (TouchesAFile if i % 2 else OpensAFile)(marker))
            for i, (name, marker) in enumerate(markers.items()) if name not in ("requeued", "inference")}
    restarted = write_tiny_plan(tmp_path, trained_run.store, name="restarted.json", run="restarted")
    _evil_checkpoint(tmp_path / "restarted/checkpoints/step-00000009.ckpt", TouchesAFile(markers["requeued"]))
    convert_command([str(trained_run.run_dir)], output=str(tmp_path / "good"))
    (good,) = (tmp_path / "good").iterdir()
    inference = _evil_inference_checkpoint(good, tmp_path / "inference", markers["inference"])
    commands = {
        "resume": ["exec", str(trained_run.plan), "--resume", str(evil["resume"])],
        "requeued": ["exec", str(restarted)],
        "predict": ["predict", str(evil["predict"]), "--date", "2020-01-22T06:00", "--steps", "1"],
        "compare": ["compare", str(trained_run.run_dir), str(evil["compare"])],
        "convert": ["checkpoint", "convert", str(evil["convert"]), "-o", str(tmp_path / "out")],
        "inference": ["predict", str(inference), "--date", "2020-01-22T06:00", "--steps", "1"],
    }
    env = {**child_env(), "SLURM_RESTART_COUNT": "1"}  # `exec` continues a restarted job from its newest checkpoint
    started = {name: subprocess.Popen(runtime_command(*args), cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for name, args in commands.items()}
    lines = []
    for name, process in started.items():
        out, err = process.communicate(timeout=240)
        assert process.returncode == 2, (name, err[-3000:])
        assert len(err.splitlines()) == 1 and err.startswith("error: "), (name, err)
        assert not markers[name].exists(), name
        lines.append(f"{name}: {err.replace(str(tmp_path), 'TMP')}")
    assert not list(tmp_path.glob("created-by-*"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert_golden("".join(lines), GOLDEN / "pickle_payload_refused.txt")


def test_loading_an_inference_checkpoint_resolves_no_pickle_global(trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    from anemoic.runtime.inference.convert import convert_command

    convert_command([str(trained_run.run_dir)], output=str(tmp_path))
    (folder,) = tmp_path.iterdir()
    events: list[tuple] = []
    recording = [False]

    def hook(event: str, args: tuple) -> None:
        if recording[0] and event == "pickle.find_class":
            events.append(args)

    sys.addaudithook(hook)  # cannot be removed; it records only while the flag is set
    recording[0] = True
    try:
        load_inference(folder)
        quiet = list(events)
        pickle.loads(pickle.dumps(OpensAFile))  # the control: resolving a global is an audited event
    finally:
        recording[0] = False
    assert quiet == [] and events == [(__name__, "OpensAFile")]


def test_json_metadata_cannot_name_code(trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    """A metadata document that tries to name a callable is data: the loader refuses it as a plan and runs nothing."""
    from anemoic.runtime.inference.convert import convert_command

    convert_command([str(trained_run.run_dir)], output=str(tmp_path / "good"))
    (good,) = (tmp_path / "good").iterdir()
    shutil.copytree(good, tmp_path / "odd")
    metadata = json.loads((tmp_path / "odd" / METADATA_NAME).read_text())
    marker = tmp_path / "created"
    metadata["plan"] = {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [f"touch {marker}"]}],
                        "__reduce__": ["os.system", f"touch {marker}"]}
    (tmp_path / "odd" / METADATA_NAME).write_text(json.dumps(metadata))
    with pytest.raises(RuntimeUserError, match="no valid schema_version"):
        load_inference(tmp_path / "odd")
    assert not marker.exists()
