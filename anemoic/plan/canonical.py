"""Canonical JSON and the plan hash.

Canonical means: keys sorted, no insignificant whitespace, UTF-8, floats as
Python's shortest round-trip ``repr`` (what ``json`` emits), integers as
integers, and no NaN or infinity (JSON has none; we refuse rather than emit
non-standard tokens).  ``plan_hash`` covers everything except ``source_map``,
``estimates`` (and the stored ``plan_hash`` itself): comments, formatting or
moving a line in the source never change it, and neither does retuning the
compile-time resource estimator, whose numbers are informative (``diff``
ignores them too).  Plan schema 1 hashed the estimates; ``anemoic.plan.migrate``
checks such files under their own rule.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from anemoic.plan.convert import plan_to_dict
from anemoic.plan.errors import PlanError
from anemoic.plan.model import Plan
from anemoic.plan.schema import format_path

UNHASHED_KEYS = ("source_map", "estimates", "plan_hash")
LATE_DEFAULTS: dict[str, Any] = {"training.debug": False}
"""Fields added to the current schema after plans of it were written, with the value those plans meant.
At that value a field is left out of the hash and a file may lack it (``fill_late_defaults``), so those
plans still load and a rebuilt plan that does not use the field keeps its hash (checkpoints, resumes and
requeued runs know a run by its plan hash). A schema version bump moves them into the schema proper."""


def _check_finite(value: Any, path: list[Any]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise PlanError(f"{format_path(path)} is {value!r}; a plan holds only finite numbers.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, [*path, key])
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_finite(item, [*path, index])


def dumps_canonical(data: Any) -> str:
    """Compact canonical JSON text of JSON-typed data (the bytes that are hashed)."""
    _check_finite(data, [])
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fill_late_defaults(data: dict[str, Any]) -> None:
    """Add the ``LATE_DEFAULTS`` a plan file of the current schema lacks (it was written before them)."""
    for path, default in LATE_DEFAULTS.items():
        *parents, name = path.split(".")
        section = data
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else None  # type: ignore[assignment]
        if isinstance(section, dict) and name not in section:
            section[name] = default


def _without_late_defaults(content: dict[str, Any]) -> dict[str, Any]:
    for path, default in LATE_DEFAULTS.items():
        *parents, name = path.split(".")
        chain, section = [content], content
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else None  # type: ignore[assignment]
            chain.append(section)
        if not isinstance(section, dict) or name not in section or json.dumps(section[name]) != json.dumps(default):
            continue
        copies = [dict(c) for c in chain]  # copy the path down to the field, never the caller's dicts
        for parent, child, part in zip(copies, copies[1:], parents):
            parent[part] = child
        del copies[-1][name]
        content = copies[0]
    return content


def hash_content(data: dict[str, Any], unhashed: tuple[str, ...] = UNHASHED_KEYS) -> str:
    """sha256 (hex) of the canonical JSON of a plan dict, without its unhashed keys (and late defaults)."""
    content = _without_late_defaults({key: value for key, value in data.items() if key not in unhashed})
    return hashlib.sha256(dumps_canonical(content).encode("utf-8")).hexdigest()


def plan_hash(plan: Plan) -> str:
    """The plan's identity: equal for plans that differ only in their source map or estimates."""
    return hash_content(plan_to_dict(plan))


def file_dict(plan: Plan) -> dict[str, Any]:
    """The dict stored in ``plan.json``: the plan's fields plus its ``plan_hash``."""
    data = plan_to_dict(plan)
    data["plan_hash"] = hash_content(data)
    return data


def canonical_json(plan: Plan) -> str:
    """The exact text of ``plan.json`` (sorted keys, 2-space indent, trailing newline).

    Indented for people; the hash is over the compact form, so layout cannot matter.
    """
    data = file_dict(plan)
    _check_finite(data, [])
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
