"""Block settings read from one declarative table.

Each ``Setting`` says, once: the word a user writes in the block (``epochs``), the plan field it
sets (``training.epochs``, which is also its source-map address, so ``explain`` can blame it), and
how its value is read (type, range, choices).  ``read_settings`` applies a table to a block, so every
block is read the same way: unknown or repeated keys are diagnosed by ``Context.read_block``, a bad
value by its reader, and only the settings the user wrote are returned (the plan's own defaults
fill the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.typecheck.context import Context

Reader = Callable[[v.Value, Sink, str], Any]
"""Reads a value as its setting needs it; returns None after a diagnostic."""


@dataclass(frozen=True)
class Setting:
    key: str  # the word in the block
    path: str  # the plan field it sets, and its source-map address
    read: Reader
    field: str | None = None  # the name it is returned under (default: the path's last part)

    @property
    def name(self) -> str:
        return self.field or self.path.rsplit(".", 1)[-1]


def whole(minimum: int | None = None) -> Reader:
    return lambda value, sink, what: coerce.integer(value, sink, what, minimum)


def real(positive: bool = False) -> Reader:
    return lambda value, sink, what: coerce.number(value, sink, what, positive)


def flag() -> Reader:
    return coerce.boolean


def text() -> Reader:
    return coerce.string


def duration() -> Reader:
    return coerce.duration


def memory() -> Reader:
    return coerce.memory_gb


def choice(options: tuple[str, ...] | Mapping[str, str]) -> Reader:
    """One of ``options``: plan values themselves, or language words mapped to plan values."""
    words = dict(options) if isinstance(options, Mapping) else {o: o for o in options}

    def read(value: v.Value, sink: Sink, what: str) -> str | None:
        word = coerce.choice(value, sink, what, tuple(words))
        return None if word is None else words[word]

    return read


def texts() -> Reader:
    """A list of strings such as ``["LUMI/24.03"]``."""

    def read(value: v.Value, sink: Sink, what: str) -> tuple[str, ...] | None:
        if not isinstance(value, v.ListV):
            coerce.wrong(sink, "E0103", what, 'a list of strings such as `["LUMI/24.03"]`', value)
            return None
        items = [coerce.string(item, sink, f"each item of {what}") for item in value.items]
        return None if None in items else tuple(items)  # type: ignore[arg-type]

    return read


def keys(table: tuple[Setting, ...], *extra: str) -> tuple[str, ...]:
    """Every word a block accepts: its table's keys and the settings read by hand."""
    return (*dict.fromkeys(s.key for s in table), *extra)


def read_settings(ctx: Context, given: Mapping[str, v.Value], table: tuple[Setting, ...]) -> dict[str, Any] | None:
    """``{name: value}`` of every setting of ``table`` the block gives; None when one failed (diagnosed)."""
    out: dict[str, Any] = {}
    ok = True
    for setting in table:
        if setting.key not in given:
            continue
        value = given[setting.key]
        ctx.mark(setting.path, value)
        result = setting.read(value, ctx.sink, f"`{setting.key}`")
        if result is None:
            ok = False
        else:
            out[setting.name] = result
    return out if ok else None
