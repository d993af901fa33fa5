"""Atomic, weights_only-safe checkpoint files and their discovery for --resume."""

from __future__ import annotations

import datetime
import enum
import signal
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from anemoic.runtime.training.checkpoints import (
    atomic_torch_save,
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
    remove_stale_temporaries,
    resolve_checkpoint,
    to_weights_only_safe,
)
from anemoic.runtime.errors import RuntimeUserError

WRITER = """
import sys, torch
from anemoic.runtime.training.checkpoints import atomic_torch_save
i = 0
while True:
    i += 1
    atomic_torch_save({"anemoic": {"i": i}, "w": torch.full((1_000_000,), float(i))}, sys.argv[1])
    print(i, flush=True)
"""


class Colour(enum.Enum):
    RED = "red"


def test_sanitiser_turns_lightning_leftovers_into_plain_types_that_load_weights_only(tmp_path: Path) -> None:
    version = torch.__version__  # a TorchVersion: a str subclass torch.load(weights_only=True) refuses
    content = {"v": version, "p": tmp_path, "e": Colour.RED, "n": np.float32(1.5), "a": np.arange(3),
               "o": OrderedDict(x=torch.ones(2)), "s": {3, 1}, "t": (1, "x"), "d": datetime.date(2020, 1, 2)}
    safe = to_weights_only_safe(content)
    atomic_torch_save(safe, tmp_path / "x.ckpt")
    loaded = torch.load(tmp_path / "x.ckpt", weights_only=True)
    assert type(loaded["v"]) is str and loaded["v"] == str(version)
    assert loaded["p"] == str(tmp_path) and loaded["e"] == "red" and loaded["n"] == 1.5
    assert torch.equal(loaded["a"], torch.arange(3)) and loaded["s"] == [1, 3] and loaded["t"] == (1, "x")
    assert loaded["d"] == "2020-01-02"


def test_sanitiser_refuses_objects_naming_where_they_are() -> None:
    with pytest.raises(TypeError, match=r"checkpoint\['callbacks'\]\['x'\] holds a object"):
        to_weights_only_safe({"callbacks": {"x": object()}})


def test_killing_a_writer_mid_write_never_leaves_a_partial_checkpoint(tmp_path: Path) -> None:
    target = tmp_path / "step-00000001.ckpt"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        for _ in range(3):  # let a few complete writes happen, then kill at an arbitrary point of the next
            writer.stdout.readline()
        time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    content = torch.load(target, weights_only=True)
    assert torch.all(content["w"] == float(content["anemoic"]["i"]))  # a whole file, never a torn one
    assert list_checkpoints(tmp_path) == [target]  # temporaries are never listed
    remove_stale_temporaries(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_resolve_picks_the_newest_step_and_refuses_missing_things(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "checkpoints"
    for step in (10, 2, 100):
        atomic_torch_save({"anemoic": {}}, folder / checkpoint_name(step))
    (folder / ".tmp-abc-step-00000200.ckpt").write_bytes(b"partial")
    assert resolve_checkpoint(tmp_path / "run") == folder / checkpoint_name(100)
    assert resolve_checkpoint(folder / checkpoint_name(2)) == folder / checkpoint_name(2)
    with pytest.raises(RuntimeUserError, match="no such run directory or checkpoint"):
        resolve_checkpoint(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeUserError, match="no checkpoint found"):
        resolve_checkpoint(tmp_path / "empty")


def test_load_refuses_foreign_and_damaged_files(tmp_path: Path) -> None:
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeUserError, match="is not a readable anemoic checkpoint"):
        load_checkpoint(tmp_path / "garbage.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(RuntimeUserError, match="no lineage record"):
        load_checkpoint(tmp_path / "foreign.ckpt")


def test_a_fresh_run_moves_an_earlier_runs_checkpoints_aside(tmp_path: Path) -> None:
    from anemoic.runtime.training.checkpoints import archive_previous_checkpoints

    assert archive_previous_checkpoints(tmp_path) is None  # nothing there: nothing moved
    old = tmp_path / "checkpoints"
    atomic_torch_save({"anemoic": {}}, old / checkpoint_name(300))
    archived = archive_previous_checkpoints(tmp_path)
    assert archived is not None and archived.name.startswith("checkpoints.before-")
    assert list_checkpoints(archived) == [archived / checkpoint_name(300)] and not old.exists()
    assert resolve_checkpoint(archived) == archived / checkpoint_name(300)  # what the note tells users to pass
