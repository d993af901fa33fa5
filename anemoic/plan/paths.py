"""Field paths: one address per plan value, shared by the source map, ``explain`` and ``diff``.

A path is dotted field names from the plan root (``training.optimiser.lr``).
Items of a list of records are addressed by their ``name`` when every item has
a distinct one (``variables[2t].normaliser``, ``loss.scalers[variable].weights``)
and by position otherwise (``loss.terms[0].kind``), so that inserting a
variable does not shift the address of every other one.  Lists of plain values
(``indices.output``, scaler ``weights``) are single values.  The source map uses
the same addresses; a path with no entry of its own takes the location of its
nearest ancestor that has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_LAST_SEGMENT = re.compile(r"(\.[^.\[\]]+|\[[^\]]*\])$")


def is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def item_keys(items: list[dict[str, Any]]) -> list[str]:
    names = [item.get("name") for item in items]
    if all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names):
        return [str(n) for n in names]
    return [str(i) for i in range(len(items))]


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key in sorted(value):
            yield from _walk(value[key], f"{path}.{key}" if path else key)
    elif is_record_list(value):
        for key, item in zip(item_keys(value), value):
            yield from _walk(item, f"{path}[{key}]")
    else:
        yield path, value


def flatten(data: Mapping[str, Any], *, skip: tuple[str, ...] = ("source_map", "plan_hash")) -> dict[str, Any]:
    """Leaf path -> JSON value for a plan dict (``plan_to_dict`` output), sorted by path."""
    out: dict[str, Any] = {}
    for key in sorted(data):
        if key in skip:
            continue
        out.update(_walk(data[key], key))
    return out


def parent(path: str) -> str | None:
    """``variables[2t].normaliser`` -> ``variables[2t]`` -> ``variables`` -> None."""
    match = _LAST_SEGMENT.search(path)
    if match is None or match.start() == 0:
        return None
    return path[: match.start()]


def source_of(source_map: Mapping[str, str], path: str) -> str | None:
    """Where ``path`` was set: its own entry, else its nearest ancestor's, else None."""
    current: str | None = path
    while current is not None:
        if current in source_map:
            return source_map[current]
        current = parent(current)
    return None


def under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` itself or lies inside it."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
