"""``anemoi-runtime checkpoint convert CKPT... -o DIR``: training checkpoints become inference checkpoints.

Training writes only training checkpoints (weights, optimiser, loops); an inference checkpoint is made
from one on demand ("convert, don't duplicate"), as the folder ``DIR/<plan name>-<checkpoint name>/`` of
``weights.safetensors`` and ``metadata.json`` (``inference_checkpoint``).  The folder is written as a hidden
temporary beside it and renamed into place once both files are complete and fsynced, so a convert that
is killed or fails leaves no visible, half-written checkpoint; a later convert removes temporaries whose
writer is gone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

import anemoic
from anemoic.plan.canonical import file_dict, plan_hash
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.inference_checkpoint import (
    FORMAT, FORMAT_VERSION, METADATA_NAME, WEIGHTS_NAME, graph_fingerprint,
)
from anemoic.runtime.training.checkpoints import TEMPORARY_PREFIX, fsync_directory

PACKAGES = ("torch", "lightning", "numpy", "safetensors", "torch_geometric")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"anemoic": anemoic.__version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name.replace("_", "-"))
        except PackageNotFoundError:
            pass
    return found


def git_revision() -> str | None:
    """The commit of the anemoic source tree when it is a git checkout (an editable install), else None."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(anemoic.__file__).parent, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and len(revision) == 40 else None


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _variables(plan: Any) -> list[dict[str, Any]]:
    """Each variable with its role and its index in every tensor it appears in (None where it does not)."""
    indices = plan.indices
    out = []
    for var in plan.variables:
        def position(names: tuple[str, ...]) -> int | None:
            return names.index(var.name) if var.name in names else None
        out.append({"name": var.name, "role": var.role, "store_index": var.store_index,
                    "data_index": position(indices.data), "input_index": position(indices.input),
                    "output_index": position(indices.output), "normaliser": var.normaliser,
                    "computed": var.computed})
    return out


def _normaliser(plan: Any, preprocessor: Any) -> dict[str, dict[str, float | str]]:
    """physical = normalised * scale + offset, per data variable (the values the model was trained with); a
    limited-area model's per dataset (its region's points first, then the boundary's)."""
    by_name = {v.name: v for v in plan.variables}
    offset, scale = preprocessor.offset, preprocessor.scale
    if offset.dim() == 1:
        return {name: {"normaliser": by_name[name].normaliser, "offset": float(offset[i]), "scale": float(scale[i])}
                for i, name in enumerate(preprocessor.names)}
    outer = {v.name: v for v in plan.boundary.variables}
    return {name: {"normaliser": by_name[name].normaliser, "offset": float(offset[0, i]), "scale": float(scale[0, i]),
                   "boundary": {"normaliser": outer[name].normaliser, "offset": float(offset[-1, i]),
                                "scale": float(scale[-1, i])}}
            for i, name in enumerate(preprocessor.names)}


def build_metadata(module: Any, parts: Any, source: Path, checkpoint: dict[str, Any], lineage: dict[str, Any],
                   weights_sha256: str, identity: str, ema: bool) -> dict[str, Any]:
    from anemoic.graphs.cache import grid_fingerprint

    plan = module.plan
    # the model's grid: a limited-area model's region then the boundary points around it (the cut-out grid)
    latitudes, longitudes = np.asarray(parts.data.latitudes, np.float64), np.asarray(parts.data.longitudes, np.float64)
    task = plan.task
    training = {k: v for k, v in lineage.items() if k != "plan_json"}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "uuid": identity,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "plan_hash": plan_hash(plan),
        "plan": file_dict(plan),
        "variables": _variables(plan),
        "indices": {"data": list(plan.indices.data), "input": list(plan.indices.input),
                    "output": list(plan.indices.output), "prognostic": list(plan.indices.prognostic)},
        "timesteps": {"timestep_s": task.timestep_s, "multistep_input": task.multistep_input,
                      "input_offsets_s": [-(task.multistep_input - 1 - i) * task.timestep_s
                                          for i in range(task.multistep_input)],
                      "dataset_frequency_s": plan.dataset.frequency_s},
        "method": {"kind": task.method.kind, "members": task.method.members},
        "grid": {"size": int(latitudes.size), "latitudes": latitudes.tolist(), "longitudes": longitudes.tolist(),
                 "fingerprint": grid_fingerprint(latitudes, longitudes)},
        "graph": {"recipe": file_dict(plan)["graph"], "fingerprint": graph_fingerprint(parts.graph)},
        "normaliser": _normaliser(plan, module.preprocessor),
        "weights": {"file": WEIGHTS_NAME, "sha256": weights_sha256, "ema": ema,
                    "parameters": sum(p.numel() for p in module.parameters())},
        "provenance": {
            "parent": {"path": str(source), "sha256": _file_sha256(source), "plan_hash": lineage.get("plan_hash"),
                       "global_step": checkpoint.get("global_step"), "epoch": checkpoint.get("epoch")},
            "training": training,
            "packages": _versions(),
            "git_revision": git_revision(),
        },
    }


def metadata_text(metadata: dict[str, Any]) -> str:
    """Indented JSON for people, with each coordinate list on one line (not one line per grid point)."""
    grid = metadata["grid"]
    marks = {key: f"@@{key}@@" for key in ("latitudes", "longitudes")}
    shown = {**metadata, "grid": {**grid, **marks}}
    text = json.dumps(shown, indent=1, sort_keys=True, allow_nan=False) + "\n"
    for key, mark in marks.items():
        text = text.replace(json.dumps(mark), json.dumps(grid[key], allow_nan=False))
    return text


def _writer_alive(name: str) -> bool:
    try:
        pid = int(name[len(TEMPORARY_PREFIX):].split("-", 1)[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(output: Path) -> None:
    """Temporaries of converts that were killed (their process is gone); a running convert's are kept."""
    for entry in output.glob(f"{TEMPORARY_PREFIX}*"):
        if entry.is_dir() and not _writer_alive(entry.name):
            shutil.rmtree(entry, ignore_errors=True)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def convert_one(source: Path, output: Path, parent: str | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the inference checkpoint of ``source`` into ``output``; (its folder, its metadata).  ``parent`` is
    the uuid of the inference checkpoint the training started from (the catalogue's lineage link)."""
    from safetensors.torch import save

    from anemoic.runtime.inference.loading import load_training

    module, parts, path, lineage, checkpoint, ema = load_training(source)
    if module.plan.source is not None:  # two grids and two normalisers: the inference format holds one of each
        raise RuntimeUserError(f"error: {path} is a spatial downscaler's checkpoint; converting one into an inference "
                               "checkpoint is not supported yet\nhint: predict with the training checkpoint "
                               "(`anemoi-runtime predict RUN_DIR ...`)")
    target = output / f"{module.plan.name}-{path.stem}"
    if target.exists():
        raise RuntimeUserError(f"error: {target} already exists; an inference checkpoint is never overwritten\n"
                               "hint: remove it, or convert into another folder with -o")
    identity = str(uuid.uuid4())
    state = {name: value.detach().cpu().contiguous().clone() for name, value in module.state_dict().items()}
    weights = save(state, metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION), "uuid": identity})
    metadata = build_metadata(module, parts, path, checkpoint, lineage, hashlib.sha256(weights).hexdigest(),
                              identity, ema)
    metadata["parent_uuid"] = parent
    text = metadata_text(metadata)
    temporary = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", dir=output))
    try:
        _write_file(temporary / WEIGHTS_NAME, weights)
        _write_file(temporary / METADATA_NAME, text.encode("utf-8"))
        os.chmod(temporary, 0o755)  # mkdtemp makes 0700; checkpoints are shared like any output
        fsync_directory(temporary)
        os.rename(temporary, target)
    except OSError as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        raise RuntimeUserError(f"error: cannot write the inference checkpoint {target}: {exc.strerror or exc}; "
                               "nothing was written") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    fsync_directory(output)
    return target, metadata


def convert_command(checkpoints: list[str], *, output: str, parent: str | None = None) -> int:
    if parent is not None and not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", parent):
        raise RuntimeUserError(f"error: --parent {parent!r} is not a checkpoint uuid\n"
                               "hint: `anemoi-runtime checkpoint show` prints the uuid of an inference checkpoint")
    folder = Path(output)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RuntimeUserError(f"error: cannot create the output folder {folder}: {exc.strerror or exc}") from None
    remove_stale_temporaries(folder)
    for source in checkpoints:
        target, metadata = convert_one(Path(source), folder, parent)
        weights = metadata["weights"]
        size = (target / WEIGHTS_NAME).stat().st_size
        print(f"converted {metadata['provenance']['parent']['path']} -> {target} "
              f"({'EMA weights, ' if weights['ema'] else ''}{weights['parameters']:,} parameters, "
              f"{size / 1e6:.2f} MB of weights, uuid {metadata['uuid']})", flush=True)
    return 0
