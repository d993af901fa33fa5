"""Values that expressions evaluate to.  Each keeps the span of the source that made it,
so a plan field can always name the line that set it (the source map)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Union

from anemoic.compiler.diagnostics import Span


@dataclass(frozen=True)
class Num:
    value: int | float
    span: Span


@dataclass(frozen=True)
class Str:
    value: str
    span: Span


@dataclass(frozen=True)
class Bool:
    value: bool
    span: Span


@dataclass(frozen=True)
class Word:
    """A digit-led word (``6h``, ``2t``, ``64GB``): its meaning depends on where it is used."""

    text: str
    span: Span


@dataclass(frozen=True)
class Symbol:
    """An unbound name: a variable name, an enumeration value (``gelu``) or a typo."""

    name: str
    span: Span


@dataclass(frozen=True)
class Date:
    value: datetime.datetime
    has_time: bool
    span: Span


@dataclass(frozen=True)
class ListV:
    items: tuple[Value, ...]
    span: Span


@dataclass(frozen=True)
class RecordV:
    entries: tuple[tuple[str, Span, Value], ...]  # key, key span, value
    span: Span


@dataclass(frozen=True)
class RangeV:
    start: Value
    end: Value
    span: Span


@dataclass(frozen=True)
class RolloutV:
    start: Value
    end: Value
    by: Value | None
    every: int | None
    span: Span


@dataclass(frozen=True)
class StepsV:
    count: Value
    span: Span


@dataclass(frozen=True)
class OpV:
    """A non-numeric ``+ - * with except``: meaning decided by the consumer (loss, variables, lr)."""

    op: str
    left: Value
    right: Value
    span: Span


@dataclass(frozen=True)
class ComponentV:
    """A registry component with its arguments; calling it again overrides arguments."""

    builtin: str
    args: tuple[tuple[str, Value], ...]  # named, after binding positionals
    rest: tuple[Value, ...]  # extra positionals (variable names of `surface(2t, msl)`)
    extra: tuple[tuple[str, Span, Value], ...]  # extra keywords (`variable_weights(z = 12)`)
    span: Span

    def get(self, name: str) -> Value | None:
        for key, value in self.args:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class DatasetV:
    name: str
    store: Value
    settings: tuple[tuple[str, Span, Value], ...]
    span: Span
    failed: tuple[str, ...] = ()  # settings given whose value could not be evaluated


@dataclass(frozen=True)
class NamedV:
    """A value declared with ``graph g = ...``, ``model m = ...`` or ``loss l = ...``."""

    kind: str
    name: str
    value: Value
    span: Span


@dataclass(frozen=True)
class ModuleV:
    name: str
    key: str  # the loaded module's identity
    span: Span


Value = Union[Num, Str, Bool, Word, Symbol, Date, ListV, RecordV, RangeV, RolloutV, StepsV, OpV,
              ComponentV, DatasetV, NamedV, ModuleV]


def describe(value: Value) -> str:
    """How a value is named in a message: 'the number `6`', 'a list', ..."""
    if isinstance(value, Bool):
        return f"`{'true' if value.value else 'false'}`"
    if isinstance(value, Num):
        return f"the number `{value.value}`"
    if isinstance(value, Str):
        return f'the string "{value.value}"'
    if isinstance(value, Word):
        return f"`{value.text}`"
    if isinstance(value, Symbol):
        return f"the name `{value.name}`"
    if isinstance(value, Date):
        return "a date"
    if isinstance(value, ListV):
        return "a list"
    if isinstance(value, RecordV):
        return "a record"
    if isinstance(value, RangeV):
        return "a range"
    if isinstance(value, RolloutV):
        return "a rollout schedule"
    if isinstance(value, StepsV):
        return "a number of steps"
    if isinstance(value, OpV):
        return f"an expression with `{value.op}`"
    if isinstance(value, ComponentV):
        return f"`{value.builtin}(...)`"
    if isinstance(value, DatasetV):
        return f"the dataset `{value.name}`"
    if isinstance(value, NamedV):
        return f"the {value.kind} `{value.name}`"
    return f"the module `{value.name}`"
