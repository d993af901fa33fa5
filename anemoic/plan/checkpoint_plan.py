"""The plan a training checkpoint was trained from, read without torch (for ``anemoic check``).

A checkpoint is ``torch.save``'s zip: one pickle (``*/data.pkl``) whose tensors point at storages kept
beside it.  The runtime writes only plain types and tensors into it (``runtime/training/checkpoints.py``),
so this reader unpickles with an allow-list of exactly the globals such a pickle names, and resolves none
of them: a tensor becomes its shape, a storage nothing.  Anything else (another global, a damaged or foreign
file) means "not readable here", and the runtime's own load says why when the run starts.
"""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path
from typing import Any

_STORAGES = ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
             "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage")


class Shape(tuple):
    """A tensor of the checkpoint, as its shape."""


def _tensor(storage: Any, offset: Any, size: Any, *rest: Any) -> Shape:
    return Shape(size)


class _Reader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _tensor
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        if module == "torch" and name in _STORAGES:
            return None
        raise pickle.UnpicklingError(f"{module}.{name} is not part of an anemoic checkpoint")

    def persistent_load(self, pid: Any) -> None:
        return None  # a storage's bytes: never read


def newest_checkpoint(path: Path) -> Path | None:
    """``path`` itself (a file), or the newest ``step-*.ckpt`` of a run directory (or its ``checkpoints``)."""
    if path.is_file():
        return path
    folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    found = sorted(folder.glob("step-*.ckpt")) if folder.is_dir() else []
    return found[-1] if found else None


def read_checkpoint_plan(path: Path) -> dict[str, Any] | None:
    """The plan (as a dict) the checkpoint was trained from, or None when it is not readable here."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
            content = _Reader(io.BytesIO(archive.read(name))).load()
        plan = json.loads(content["anemoic"]["plan_json"])
    except Exception:  # noqa: BLE001 - any failure means "not readable here"; the runtime names it
        return None
    return plan if isinstance(plan, dict) else None
