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
from cattrs.gen import make_dict_unstructure_fn, override

from anemoic.plan import model
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
    for cls in _with_absent_defaults():
        omitted = {f.name: override(omit_if_default=True) for f in dataclasses.fields(cls)
                   if f.metadata.get("absent_when_default")}
        converter.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, converter, **omitted))
    return converter


def _with_absent_defaults() -> list[type]:
    """The plan's dataclasses with a field that is left out of the file at its default (``ABSENT_WHEN_DEFAULT``)."""
    classes = [c for c in vars(model).values() if dataclasses.is_dataclass(c) and isinstance(c, type)]
    return [c for c in classes if any(f.metadata.get("absent_when_default") for f in dataclasses.fields(c))]


def _listify(value: Any) -> Any:
    """Tuples become lists so that the dict equals what ``json.loads`` gives back."""
    if isinstance(value, dict):
        return {key: _listify(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_listify(item) for item in value]
    return value


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON types (dicts, lists, str, int, float, bool, None), source map included."""
    if not isinstance(plan, Plan):
        raise PlanError(f"expected a Plan, got {type(plan).__name__}")
    return _listify(_converter().unstructure(plan))


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """Build the frozen Plan from a schema-valid dict (``plan_hash`` is ignored if present)."""
    content = {key: value for key, value in data.items() if key != "plan_hash"}
    try:
        return _converter().structure(content, Plan)
    except (cattrs.BaseValidationError, TypeError, ValueError, KeyError) as exc:
        raise PlanError(f"the plan's content does not fit the plan model: {exc}") from None
