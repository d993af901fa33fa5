"""Reading a checkpoint's plan without torch: only the globals a weights-only checkpoint names, none resolved."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import torch

from anemoic.plan.checkpoint_plan import newest_checkpoint, read_checkpoint_plan


def test_the_plan_of_a_torch_checkpoint_is_read(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints" / "step-00000002.ckpt"
    path.parent.mkdir()
    torch.save({"anemoic": {"plan_json": '{"name": "x"}'}, "state_dict": {"model.w": torch.ones(3, 2)}}, path)
    (tmp_path / "checkpoints" / "step-00000001.ckpt").write_bytes(b"older")
    assert newest_checkpoint(tmp_path) == path
    assert read_checkpoint_plan(path) == {"name": "x"}


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned",))


def test_a_pickle_naming_any_other_global_is_not_readable(tmp_path: Path) -> None:
    path = tmp_path / "evil.ckpt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"anemoic": {"plan_json": "{}"}, "x": _Evil()}))
    assert read_checkpoint_plan(path) is None
    assert read_checkpoint_plan(tmp_path / "absent.ckpt") is None
    assert read_checkpoint_plan(Path(io.__file__)) is None  # not a zip
