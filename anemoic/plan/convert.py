"""Plan <-> plain JSON-able dicts, via one cattrs converter.

Unstructuring coerces every field declared ``float`` to a Python float (and -0.0
to 0.0), so a plan built with ``lr=1`` and one built with ``lr=1.0`` serialise
(and hash) alike.
Structuring turns JSON lists back into tuples, including inside free-form
``params`` records.  Input to ``plan_from_dict`` is expected to have passed the
schema already (``anemoic.plan.schema.validate_plan_dict``); cattrs would
otherwise coerce silently (``int("3")``).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

import cattrs

from anemoic.plan.errors import PlanError
from anemoic.plan.model import Param, Plan


def _structure_param(value: Any, _type: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


@lru_cache(maxsize=1)
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(float, lambda value: float(value) + 0.0)  # + 0.0: -0.0 -> 0.0
    converter.register_structure_hook(Param, _structure_param)
    return converter


def _listify(value: Any) -> Any:
    """Tuples become lists so that the dict equals what ``json.loads`` gives back."""
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_listify(item) for item in value]
    return value


def _omit_added_defaults(obj: Any, data: Any) -> Any:
    """Leave out the fields added within the schema version (``model.ADDED_IN_SCHEMA``) that hold their default:
    a plan that does not use them is written, and hashed, exactly as before they existed."""
    if dataclasses.is_dataclass(obj) and isinstance(data, dict):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.metadata.get("optional") and value == f.default:
                data.pop(f.name, None)
            elif f.name in data:
                _omit_added_defaults(value, data[f.name])
    elif isinstance(obj, (list, tuple)) and isinstance(data, list):
        for item, part in zip(obj, data):
            _omit_added_defaults(item, part)
    return data


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON types (dicts, lists, str, int, float, bool, None), source map included."""
    if not isinstance(plan, Plan):
        raise PlanError(f"expected a Plan, got {type(plan).__name__}")
    return _omit_added_defaults(plan, _listify(_converter().unstructure(plan)))


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Build the frozen Plan from a schema-valid dict (``plan_hash`` is ignored if present)."""
    content = {key: value for key, value in data.items() if key != "plan_hash"}
    try:
        return _converter().structure(content, Plan)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise PlanError(f"the plan's content does not fit the plan model: {exc}") from None
