"""JSON Schema of a plan file, generated from the dataclasses in ``model.py``.

The committed ``plan.schema.json`` is this generator's output (a test keeps them
equal; regenerate with ``python -m anemoic.plan.schema``), so the schema can
never drift from the model.  Validation uses the generated schema and turns
the first violation into a ``PlanError`` that names the field path
(``training.optimiser.lr``, ``variables[3].normaliser``).

Every field is required and no unknown field is allowed: the writer always
writes every field, so a missing or extra one means a hand edit or a plan
from another version of anemoic.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any

from anemoic.plan import model
from anemoic.plan.errors import PlanError

SCHEMA_PATH = Path(__file__).with_name("plan.schema.json")
_SIMPLE = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
_HASH_PATTERN = "^[0-9a-f]{64}$"


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if tp in _SIMPLE:
        return {"type": _SIMPLE[tp]}
    if dataclasses.is_dataclass(tp):
        _add_definition(tp, defs)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:  # a kind of the vocabulary (anemoic.plan.kinds): the schema enforces it
        return {"type": "string", "enum": list(args)}
    if _is_union(tp):
        if all(arg in _SIMPLE for arg in args):
            return {"type": [_SIMPLE[arg] for arg in args]}
        return {"anyOf": [_type_schema(arg, defs) for arg in args]}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _type_schema(args[0], defs)}
        return {"type": "array", "prefixItems": [_type_schema(arg, defs) for arg in args],
                "minItems": len(args), "maxItems": len(args)}
    if origin is dict and args[0] is str:
        return {"type": "object", "additionalProperties": _type_schema(args[1], defs)}
    raise TypeError(f"plan schema: no JSON Schema mapping for {tp!r}")


def _add_definition(cls: type, defs: dict[str, Any]) -> None:
    if cls.__name__ in defs:
        return
    defs[cls.__name__] = {}  # reserve the name first: recursion-safe
    hints = typing.get_type_hints(cls)  # in the namespace of the module that declares it (model or data)
    fields = dataclasses.fields(cls)
    definition: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: _type_schema(hints[f.name], defs) for f in fields},
        "required": [f.name for f in fields if not f.metadata.get("optional")],
        "additionalProperties": False,
    }
    doc = (cls.__doc__ or "").strip()
    if doc and not doc.startswith(f"{cls.__name__}("):  # skip dataclasses' generated signature
        definition["description"] = " ".join(doc.split())
    defs[cls.__name__] = definition


def build_schema() -> dict[str, Any]:
    """The schema of a plan *file*: the Plan object plus its stored ``plan_hash``."""
    defs: dict[str, Any] = {}
    _add_definition(model.Plan, defs)
    root = dict(defs.pop("Plan"))
    root["properties"] = dict(root["properties"])
    root["properties"]["plan_hash"] = {"type": "string", "pattern": _HASH_PATTERN,
                                       "description": "sha256 of the canonical content without source_map and estimates"}
    root["properties"]["schema_version"] = {"const": model.SCHEMA_VERSION}
    root["required"] = [*root["required"], "plan_hash"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://anemoic.dev/schemas/plan-v{model.SCHEMA_VERSION}.json",
        "title": "anemoic plan",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def schema_text() -> str:
    """The exact text of ``plan.schema.json``."""
    return json.dumps(build_schema(), indent=2, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # ~80 ms: only when a plan is read or written

    schema = build_schema()
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def format_path(parts: typing.Iterable[Any]) -> str:
    """``["variables", 3, "name"]`` -> ``variables[3].name``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: Any) -> str:
    path = format_path(error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{path}: required field '{missing[0]}' is missing"
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in allowed)
        return f"{path}: unknown field '{extra[0]}'" if extra else f"{path}: {error.message}"
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"{path}: expected {wanted}, found {json.dumps(error.instance)[:60]}"
    return f"{path}: {error.message}"


def first_violation(data: Any) -> str | None:
    """The most relevant schema violation of ``data`` as ``field.path: problem``, or None when it is valid."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    return None if error is None else _describe(error)


def validate_plan_dict(data: Any, *, what: str = "plan") -> None:
    """Raise ``PlanError`` naming the first offending field if ``data`` is not a valid plan file."""
    violation = first_violation(data)
    if violation is not None:
        raise PlanError(f"{what} does not match the plan schema (version {model.SCHEMA_VERSION}): {violation}.")


def main(argv: list[str] | None = None) -> int:
    """``python -m anemoic.plan.schema [--check]``: rewrite (or check) the committed schema file."""
    args = sys.argv[1:] if argv is None else argv
    text = schema_text()
    if "--check" in args:
        current = SCHEMA_PATH.read_text() if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH} is out of date: run python -m anemoic.plan.schema")
            return 1
        return 0
    tmp = SCHEMA_PATH.with_suffix(".json.tmp")
    tmp.write_text(text)
    tmp.replace(SCHEMA_PATH)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
