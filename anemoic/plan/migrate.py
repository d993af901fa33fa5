"""Plan files of an older schema version, read as the current one, and said so.

A run directory outlives the anemoic that built it, so a reader accepts an older ``plan.json``
when every value it holds means the same under the current schema.  The file's hash is checked
under the rule of *its* version (a hand edit is still refused), the content is converted step by
step, then validated against the current schema.  The reader returns a note saying what the
conversion did; a value the current schema cannot express is refused, naming the field, with the
advice to rebuild from the source: never guessed.

Schema 1 -> 2 (the layering refactor):
- the hash no longer covers ``estimates`` (informative numbers: retuning an estimator changed
  every plan's identity);
- ``parallel.gpus_per_node`` is ``parallel.processes_per_node``;
- fields no runtime ever read are gone (``REMOVED_IN_2``): dropped when they hold their old
  default, refused otherwise;
- ``loss.metrics`` becomes ``["rmse"]``: schema-1 runtimes scored RMSE only, whatever it said;
- kinds are closed lists: a value no runtime ran (remap ``boxcox``, role ``target``, task kind
  ``ensemble``) fails the schema-2 validation and is refused.

Schema 2 -> 3 (task x method; model sharding, read groups and chunked mappers executed):
- ``task.method`` is new: schema-2 runtimes trained one deterministic state per sample, which is
  the method ``{"kind": "deterministic", "members": 1, "noise": null}``;
- a ``crps`` loss term is refused: it compares ensemble members, a schema-2 runtime had one and
  stopped at the first step, so no such plan ever trained (and its ``alpha`` meant another estimator);
- ``parallel.shard_strategy``, ``parallel.read_group_size``, ``parallel.keep_batch_sharded`` and
  ``model.num_chunks`` are added at their defaults (``ADDED_IN_3``), which is what every schema-2 runtime
  did: it refused a sharded model and ran mappers in one piece.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from anemoic.plan.canonical import hash_content
from anemoic.plan.errors import PlanError
from anemoic.plan.model import SCHEMA_VERSION
from anemoic.plan.schema import first_violation

HASHED_WITHOUT: dict[int, tuple[str, ...]] = {
    1: ("source_map", "plan_hash"),
    2: ("source_map", "estimates", "plan_hash"),
}
"""The keys each older schema version left out of ``plan_hash`` (the current rule: ``canonical.UNHASHED_KEYS``)."""

RENAMED_IN_2 = {"parallel.gpus_per_node": "parallel.processes_per_node"}
REMOVED_IN_2: dict[str, Any] = {  # field -> the only value schema 2 can read it at (its schema-1 default)
    "parallel.read_group_size": 1,
    "parallel.ensemble_size_per_device": 1,
    "parallel.shard_strategy": "edges",
    "model.num_chunks": 1,
    "task.ensemble_members": 1,
    "task.params": {},
    "indices.target": [],
}
METRICS_2 = ["rmse"]
METHOD_3: dict[str, Any] = {"kind": "deterministic", "members": 1, "noise": None}
ADDED_IN_3: dict[str, Any] = {  # field -> the value that means what a schema-2 runtime did
    "parallel.shard_strategy": "edges",
    "parallel.read_group_size": 1,
    "parallel.keep_batch_sharded": False,
    "model.num_chunks": 1,
}

Step = Callable[[dict[str, Any], str], list[str]]


def readable_versions() -> tuple[int, ...]:
    """Schema versions this anemoic reads: the current one and every one it can convert."""
    return (*sorted(STEPS), SCHEMA_VERSION)


def upgrade(data: dict[str, Any], path: str, where: str | None = None) -> tuple[dict[str, Any], str]:
    """The current-schema file dict (with its new ``plan_hash``) of an older, hash-verified file dict,
    and the note that tells the user what was converted; ``PlanError`` for what cannot be.  ``where``
    names a plan that is not a file of its own (default: ``the plan PATH``)."""
    version = data["schema_version"]
    where = where or f"the plan {path}"
    current = copy.deepcopy(data)
    changes: list[str] = []
    for step in range(version, SCHEMA_VERSION):
        changes += STEPS[step](current, where)
        current["schema_version"] = step + 1
    violation = first_violation(_without_hash(current))
    if violation is not None:
        raise _cannot(where, version, violation)
    current["plan_hash"] = hash_content(current)
    changes.append(f"plan_hash {data['plan_hash'][:12]}… is now {current['plan_hash'][:12]}…")
    lines = [f"note: {path} was written by an older anemoic (plan schema {version}); "
             f"read as schema {SCHEMA_VERSION}:", *(f"  - {change}" for change in changes),
             f"  Rebuild it from its source with `anemoic build` to write it as schema {SCHEMA_VERSION}."]
    return current, "\n".join(lines)


def _without_hash(data: dict[str, Any]) -> dict[str, Any]:
    """Valid placeholder hash: the schema check concerns the content, the hash is set after it."""
    return {**data, "plan_hash": "0" * 64}


def _cannot(where: str, version: int, detail: str) -> PlanError:
    return PlanError(f"{where} was written by an older anemoic (plan schema {version}) and cannot be read as "
                     f"schema {SCHEMA_VERSION}: {detail}. Rebuild the plan from its source with `anemoic build`.")


def _v1_to_v2(data: dict[str, Any], where: str) -> list[str]:
    changes = []
    for old, new in RENAMED_IN_2.items():
        value = _pop(data, old)
        if value is not _ABSENT:
            _section(data, new)[new.rpartition(".")[2]] = value
            changes.append(f"{old} is now {new}")
    dropped = []
    for path, default in REMOVED_IN_2.items():
        value = _pop(data, path)
        if value is _ABSENT:
            continue
        if json.dumps(value) != json.dumps(default):  # strict: true is not 1
            raise _cannot(where, 1, f"{path} is {json.dumps(value)}, but schema 2 removed this field (no runtime "
                                    f"read it) and reads only plans that left it at {json.dumps(default)}")
        dropped.append(path)
    if dropped:
        changes.append(f"dropped, unused and at their defaults: {', '.join(dropped)}")
    loss = data.get("loss")
    if isinstance(loss, dict) and loss.get("metrics") != METRICS_2:
        changes.append(f"loss.metrics {json.dumps(loss.get('metrics'))} is read as {json.dumps(METRICS_2)}: "
                       "schema-1 runtimes scored RMSE only")
        loss["metrics"] = list(METRICS_2)
    changes.append("estimates are no longer part of the plan hash")
    sweep = data.get("sweep")
    for paths in (data.get("source_map"), sweep.get("values") if isinstance(sweep, dict) else None):
        if isinstance(paths, dict):
            _rename_paths(paths)
    return changes


def _v2_to_v3(data: dict[str, Any], where: str) -> list[str]:
    terms = data.get("loss", {}).get("terms") if isinstance(data.get("loss"), dict) else None
    for index, term in enumerate(terms if isinstance(terms, list) else ()):
        if isinstance(term, dict) and term.get("kind") == "crps":
            raise _cannot(where, 2, f"loss.terms[{index}].kind is \"crps\", an ensemble loss, but a schema-2 plan "
                                    "trains one deterministic member, so it never trained")
    changes = []
    task = data.get("task")
    if isinstance(task, dict):
        task["method"] = dict(METHOD_3)
        changes.append(f"task.method is new: {json.dumps(METHOD_3)}, the one deterministic state per sample that "
                       "schema-2 runtimes trained")
    added = []
    for path, default in ADDED_IN_3.items():
        section = _section(data, path)
        name = path.rpartition(".")[2]
        if name not in section:
            section[name] = copy.deepcopy(default)
            added.append(path)
    if added:
        changes.append(f"added at their defaults (a schema-2 runtime never sharded a model or chunked a mapper): "
                       f"{', '.join(added)}")
    return changes


def _rename_paths(paths: dict[str, Any]) -> None:
    """Field-path keys (source map, sweep values) follow the renames; those of removed fields go."""
    for key in list(paths):
        for old in (*RENAMED_IN_2, *REMOVED_IN_2):
            if key == old or key.startswith((f"{old}.", f"{old}[")):
                value = paths.pop(key)
                if old in RENAMED_IN_2:
                    paths[RENAMED_IN_2[old] + key[len(old):]] = value
                break


class _Absent:
    """Marks a field the file does not hold (None is a value)."""


_ABSENT = _Absent()


def _section(data: dict[str, Any], path: str) -> dict[str, Any]:
    """The dict that holds the last part of ``path`` (an empty one when the file lacks it)."""
    section: Any = data
    for part in path.split(".")[:-1]:
        section = section.get(part) if isinstance(section, dict) else None
    return section if isinstance(section, dict) else {}


def _pop(data: dict[str, Any], path: str) -> Any:
    """Remove the field at ``path`` ("parallel.read_group_size"): its value, or ``_ABSENT``."""
    return _section(data, path).pop(path.rpartition(".")[2], _ABSENT)


STEPS: dict[int, Step] = {1: _v1_to_v2, 2: _v2_to_v3}
"""``STEPS[n]`` converts a schema-``n`` file dict in place to schema ``n + 1`` and says what it changed."""
