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


def hash_content(data: dict[str, Any], unhashed: tuple[str, ...] = UNHASHED_KEYS) -> str:
    """sha256 (hex) of the canonical JSON of a plan dict, without its unhashed keys."""
    content = {key: value for key, value in data.items() if key not in unhashed}
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
