"""Training checkpoints: atomic writes, weights_only-safe content, discovery for ``--resume``.

Why atomic: a job killed by SLURM (or SIGKILL) while writing must never leave a
truncated ``*.ckpt`` that a later ``--resume`` would pick up.  We write to a
hidden temporary in the same directory, fsync it, ``os.replace`` it over the
final name and fsync the directory; readers ignore the temporaries.

Why sanitised: checkpoints are loaded with ``torch.load(weights_only=True)``,
which refuses arbitrary pickled objects, so everything we save is converted to
plain dicts, lists, tuples, strings, numbers and tensors before writing.
"""

from __future__ import annotations

import datetime
import enum
import os
import pickle
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.fabric.plugins.io.checkpoint_io import CheckpointIO

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.lineage import lineage_of

CHECKPOINT_DIR = "checkpoints"
TEMPORARY_PREFIX = ".tmp-"
INFERENCE_METADATA = "metadata.json"  # what makes a folder an inference checkpoint (runtime/inference)
_STEP_NAME = re.compile(r"^step-(\d+)\.ckpt$")


def checkpoint_name(global_step: int) -> str:
    return f"step-{global_step:08d}.ckpt"


def to_weights_only_safe(value: Any, where: str = "checkpoint") -> Any:
    """Convert ``value`` into types ``torch.load(weights_only=True)`` accepts; raise on anything else."""
    if value is None or isinstance(value, (torch.Tensor, torch.Size, torch.dtype)):
        return value
    for plain in (bool, int, float, str):  # subclasses (TorchVersion is a str) would be pickled by class
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, enum.Enum):
        return to_weights_only_safe(value.value, where)
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.timedelta)):
        return str(value)
    if isinstance(value, Mapping):
        return {key: to_weights_only_safe(item, f"{where}[{key!r}]") for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [to_weights_only_safe(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, (set, frozenset)):
        return sorted(to_weights_only_safe(item, where) for item in value)
    raise TypeError(f"{where} holds a {type(value).__qualname__}, which a weights_only checkpoint cannot store")


def fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` with torch.save so that ``path`` is either absent, the old file, or complete."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, suffix=f"-{target.name}", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; checkpoints are shared with the team like any output
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def refuse_pickled_code(target: Path, exc: Exception) -> RuntimeUserError:
    """The one-line refusal of a file whose pickle names a global (a function or class) that ``weights_only``
    loading does not allow: unpickling it would call that object, so the file could run code.  torch's own
    message suggests loading with ``weights_only=False``, which is exactly what must never happen."""
    found = re.search(r"GLOBAL ([\w.]+)", str(exc))
    what = f" ({found.group(1)})" if found else ""
    return RuntimeUserError(f"error: {target} holds a pickled Python object{what} that would run code if loaded; "
                            "anemoic never runs code from a checkpoint, so the file was refused")


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint without unpickling code; a damaged or foreign file is a user error."""
    target = Path(path)
    if not target.is_file():
        raise RuntimeUserError(f"error: checkpoint {target} does not exist")
    try:
        content = torch.load(target, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL " in str(exc):  # names a function or class: code; anything else is a damaged file
            raise refuse_pickled_code(target, exc) from None
        raise RuntimeUserError(f"error: {target} is not a readable anemoic checkpoint ({_first_line(exc)})") from None
    except Exception as exc:  # torch raises several types for damaged/foreign files
        raise RuntimeUserError(f"error: {target} is not a readable anemoic checkpoint ({_first_line(exc)})") from None
    if not isinstance(content, dict) or "anemoic" not in content:
        raise RuntimeUserError(f"error: {target} is not an anemoic training checkpoint (no lineage record)")
    lineage_of(content, str(target))  # its format version: a newer one is refused with the anemoic to install
    return content


class AtomicCheckpointIO(CheckpointIO):
    """Lightning checkpoint IO: sanitised content, atomic write, weights_only load."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        atomic_torch_save(to_weights_only_safe(checkpoint), path)

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        return load_checkpoint(path)

    def remove_checkpoint(self, path: Any) -> None:
        Path(path).unlink(missing_ok=True)


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest step first (temporaries are ignored)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete temporaries left by a writer that was killed mid-write; return what was removed."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.name.startswith(TEMPORARY_PREFIX)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def resolve_checkpoint(run_dir_or_checkpoint: str | os.PathLike) -> Path:
    """``--resume`` accepts a checkpoint file or a run directory (its newest checkpoint)."""
    given = Path(run_dir_or_checkpoint)
    if given.is_file():
        return given
    if not given.exists():
        raise RuntimeUserError(f"error: --resume {given}: no such run directory or checkpoint")
    if (given / INFERENCE_METADATA).is_file():
        raise RuntimeUserError(
            f"error: {given} is an inference checkpoint (weights and metadata only, no optimiser or loop state); "
            "it cannot be resumed or converted\nhint: use the training checkpoint it was converted from, named "
            f"under provenance.parent.path in {given / INFERENCE_METADATA}")
    folder = given / CHECKPOINT_DIR if (given / CHECKPOINT_DIR).is_dir() else given
    found = list_checkpoints(folder)
    if not found:
        raise RuntimeUserError(f"error: --resume {given}: no checkpoint found in {folder}")
    return found[-1]


def archive_previous_checkpoints(run_dir: str | os.PathLike) -> Path | None:
    """Move the checkpoints of an earlier run in ``run_dir`` aside (never delete them).

    A fresh run numbers its checkpoints from step 0 again; left in place, the earlier
    run's higher-numbered files would look newer to ``--resume`` and to the rotation that
    keeps the last few, which would then delete the new run's own checkpoints.
    """
    folder = Path(run_dir) / CHECKPOINT_DIR
    if not list_checkpoints(folder):
        return None
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    target = folder.with_name(f"{CHECKPOINT_DIR}.before-{stamp}")
    suffix = 0
    while target.exists():
        suffix += 1
        target = folder.with_name(f"{CHECKPOINT_DIR}.before-{stamp}-{suffix}")
    os.replace(folder, target)
    return target
