"""Reading and writing ``plan.json``: the runtime's only way in.

``write_plan`` validates against the schema, then writes atomically (temp file
in the same directory, fsync, ``os.replace``), so a reader never sees half a
plan.  ``read_plan`` refuses, with a ``PlanError`` whose message is meant for the
user, anything it cannot vouch for: unreadable JSON, an unknown or newer
``schema_version``, a schema violation (naming the field), or content whose hash
differs from the stored ``plan_hash`` (a hand edit).

A file of an older schema version is read as the current one when it can be
(``anemoic.plan.migrate``), and the reader says so: ``read_plan_with_notes``
returns the notes for a command line to print; ``read_plan`` and
``read_plan_dict`` issue them as ``PlanNote`` warnings, so a caller that did not
ask for them still never migrates in silence.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

from anemoic.plan import migrate
from anemoic.plan.canonical import UNHASHED_KEYS, canonical_json, file_dict, hash_content, plan_hash
from anemoic.plan.convert import plan_from_dict, plan_to_dict
from anemoic.plan.errors import PlanError, PlanNote
from anemoic.plan.model import SCHEMA_VERSION, Plan
from anemoic.plan.schema import validate_plan_dict

__all__ = ["PlanError", "PlanNote", "canonical_json", "plan_from_dict", "plan_hash", "plan_to_dict", "read_plan",
           "plan_from_file_dict", "read_plan_dict", "read_plan_with_notes", "write_plan", "write_text_atomic"]


def write_text_atomic(path: str | os.PathLike[str], text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> str:
    """Validate and atomically write ``plan`` as canonical JSON; returns its ``plan_hash``."""
    validate_plan_dict(file_dict(plan), what="the plan being written")
    text = canonical_json(plan)
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise PlanError(f"cannot write the plan to {os.fspath(path)}: {exc.strerror or exc}.") from None
    return plan_hash(plan)


def _check_version(data: dict[str, Any], where: str) -> int:
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise PlanError(f"{where} has no valid schema_version (found {json.dumps(version)}); "
                        "it is not an anemoic plan, or it was damaged. Rebuild it with `anemoic build`.")
    if version > SCHEMA_VERSION:
        raise PlanError(f"{where} uses plan schema_version {version}, but this anemoic reads only up to "
                        f"version {SCHEMA_VERSION}. Upgrade anemoic, or rebuild the plan with this version "
                        "(`anemoic build`).")
    if version not in migrate.readable_versions():
        raise PlanError(f"{where} uses plan schema_version {version}, which this anemoic (version "
                        f"{SCHEMA_VERSION}) cannot read. Rebuild the plan from its source with `anemoic build`.")
    return version


def _check_hash(data: dict[str, Any], where: str, unhashed: tuple[str, ...]) -> None:
    recorded = data.get("plan_hash")
    if not isinstance(recorded, str) or not re.fullmatch("[0-9a-f]{64}", recorded):
        raise PlanError(f"{where} has no valid plan_hash (found {json.dumps(recorded)[:70]}); it was damaged "
                        "or edited by hand. Rebuild it with `anemoic build`.")
    actual = hash_content(data, unhashed)
    if actual != recorded:
        raise PlanError(f"{where} was changed after it was built: its content hashes to {actual[:12]}… but "
                        f"the file records plan_hash {recorded[:12]}…. Plans are frozen; change the "
                        "experiment source and run `anemoic build` again.")


def _load(path: str | os.PathLike[str], where: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"{where} does not exist. Build it with `anemoic build EXPERIMENT.anm -o DIR`.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read {where}: {getattr(exc, 'strerror', None) or exc}.") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                        "it may be truncated or edited by hand. Rebuild it with `anemoic build`.") from None
    if not isinstance(data, dict):
        raise PlanError(f"{where} holds a JSON {type(data).__name__}, not a plan object.")
    return data


def _read_verified(path: str | os.PathLike[str]) -> tuple[dict[str, Any], list[str]]:
    """The verified file as current-schema JSON data, and the notes of converting an older one."""
    where = f"the plan {os.fspath(path)}"
    return _verified(_load(path, where), where, os.fspath(path))


def _verified(data: dict[str, Any], where: str, label: str) -> tuple[dict[str, Any], list[str]]:
    """Version checked, an older schema converted (``migrate``), hash verified under its version's rule."""
    version = _check_version(data, where)
    if version != SCHEMA_VERSION:
        _check_hash(data, where, migrate.HASHED_WITHOUT[version])
        data, note = migrate.upgrade(data, label, where)
        return data, [note]
    validate_plan_dict(data, what=where)
    _check_hash(data, where, UNHASHED_KEYS)
    return data, []


def plan_from_file_dict(data: Any, label: str) -> tuple[Plan, list[str]]:
    """A plan stored inside another file (a checkpoint's lineage, an inference checkpoint's metadata), read
    exactly as ``plan.json`` is: an older schema converted and said so, a hand edit refused.  ``label``
    names it in messages (e.g. ``the plan stored in runs/x/checkpoints/step-00000010.ckpt``)."""
    if not isinstance(data, dict):
        raise PlanError(f"{label} holds a JSON {type(data).__name__}, not a plan object.")
    data, notes = _verified(data, label, label)
    return plan_from_dict(data), notes


def _refuse_constant(name: str) -> Any:
    raise PlanError(f"a plan holds only finite numbers, but the file contains {name}.")


def _say(notes: list[str]) -> None:
    for note in notes:
        warnings.warn(note, PlanNote, stacklevel=3)


def read_plan_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The verified plan file as JSON data of the current schema (schema-valid, hash checked)."""
    data, notes = _read_verified(path)
    _say(notes)
    return data


def read_plan_with_notes(path: str | os.PathLike[str]) -> tuple[Plan, list[str]]:
    """Read and verify a plan file, and the notes a user should see (today: that an older schema was
    converted); each note is a complete message, possibly several lines, that starts with ``note:``."""
    data, notes = _read_verified(path)
    plan = plan_from_dict(data)
    if plan_hash(plan) != data["plan_hash"]:  # e.g. 2.0 where an integer belongs: same schema, other bytes
        raise PlanError(f"the plan {os.fspath(path)} is not in canonical form (its content re-serialises "
                        "differently); rebuild it with `anemoic build`.")
    return plan, notes


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and verify a plan file; raises ``PlanError`` (message for the user) when it cannot be trusted.

    Notes (``read_plan_with_notes``) are issued as ``PlanNote`` warnings."""
    plan, notes = read_plan_with_notes(path)
    _say(notes)
    return plan
