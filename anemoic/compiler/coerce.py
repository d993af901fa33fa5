"""Reading a value as the type a setting needs, with a diagnostic a scientist understands
when it is not (``6`` where ``6h`` is meant, ``gelux`` for ``gelu``, ...)."""

from __future__ import annotations

import datetime
import re

from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink, did_you_mean
from anemoic.plan.units import DURATION_UNITS
MEMORY_UNITS = {"gb": 1.0, "g": 1.0, "gib": 1.073741824, "mb": 1e-3, "m": 1e-3, "tb": 1000.0, "t": 1000.0}
_DURATION = re.compile(r"^(\d+)([a-zA-Z]+)$")
UNIT_HINT = "add a unit: `6h` (hours), `1d` (days), `30m` (minutes), `45s` (seconds), `1w` (weeks), `1mo` (months)"


def wrong(sink: Sink, code: str, what: str, expected: str, value: v.Value, hint: str | None = None) -> None:
    sink.error(code, f"{what} needs {expected}, found {v.describe(value)}", value.span, hint=hint)


def duration(value: v.Value, sink: Sink, what: str) -> int | None:
    """Whole seconds from ``6h``/``1d``/``30m``/``45s``."""
    if isinstance(value, v.Word):
        match = _DURATION.match(value.text)
        if match and match.group(2) in DURATION_UNITS:
            return int(match.group(1)) * DURATION_UNITS[match.group(2)]
        unit = match.group(2) if match else value.text
        sink.error("E0101", f"`{value.text}` is not a duration: `{unit}` is not a unit of time", value.span,
                   hint="units are s (seconds), m (minutes), h (hours), d (days), w (weeks), mo (months)")
        return None
    if isinstance(value, v.Num) and not isinstance(value.value, bool):
        sink.error("E0101", f"{what} needs a duration, found the number `{value.value}` without a unit", value.span,
                   hint=UNIT_HINT)
        return None
    wrong(sink, "E0101", what, "a duration such as `6h`", value, UNIT_HINT)
    return None


def integer(value: v.Value, sink: Sink, what: str, minimum: int | None = None) -> int | None:
    if isinstance(value, v.Num) and isinstance(value.value, int) and not isinstance(value.value, bool):
        if minimum is not None and value.value < minimum:
            sink.error("E0105", f"{what} must be at least {minimum}, found {value.value}", value.span)
            return None
        return value.value
    if isinstance(value, v.Word) and _DURATION.match(value.text):
        wrong(sink, "E0103", what, "a whole number", value, hint="a count has no unit")
        return None
    wrong(sink, "E0103", what, "a whole number", value)
    return None


def number(value: v.Value, sink: Sink, what: str, positive: bool = False) -> float | None:
    if isinstance(value, v.Num) and not isinstance(value.value, bool):
        if positive and value.value <= 0:
            sink.error("E0105", f"{what} must be greater than 0, found {value.value}", value.span)
            return None
        return float(value.value)
    wrong(sink, "E0103", what, "a number", value)
    return None


def boolean(value: v.Value, sink: Sink, what: str) -> bool | None:
    if isinstance(value, v.Bool):
        return value.value
    wrong(sink, "E0103", what, "`true` or `false`", value)
    return None


def string(value: v.Value, sink: Sink, what: str) -> str | None:
    if isinstance(value, v.Str):
        return value.value
    hint = f'put it in double quotes: "{value.name}"' if isinstance(value, v.Symbol) else \
        'put text in double quotes: "..."'
    wrong(sink, "E0103", what, 'a string in double quotes ("...")', value, hint)
    return None


def choice(value: v.Value, sink: Sink, what: str, choices: tuple[str, ...]) -> str | None:
    name = value.name if isinstance(value, v.Symbol) else value.value if isinstance(value, v.Str) else \
        value.builtin if isinstance(value, v.ComponentV) and not value.args else \
        value.text if isinstance(value, v.Word) else None
    if isinstance(value, v.Num) and str(value.value) in choices:
        return str(value.value)
    if isinstance(name, str) and name in choices:
        return name
    options = ", ".join(f"`{c}`" for c in choices)
    if isinstance(name, str):
        sink.error("E0104", f"`{name}` is not a valid choice for {what}", value.span,
                   hint=did_you_mean(name, choices, f"choose one of {options}"))
    else:
        wrong(sink, "E0104", what, f"one of {options}", value)
    return None


def memory_gb(value: v.Value, sink: Sink, what: str) -> float | None:
    if isinstance(value, v.Word):
        match = _DURATION.match(value.text)
        if match and match.group(2).lower() in MEMORY_UNITS:
            return int(match.group(1)) * MEMORY_UNITS[match.group(2).lower()]
    if isinstance(value, v.Num) and value.value == 0:
        return 0.0
    wrong(sink, "E0106", what, "a memory size such as `64GB`", value, hint="units: MB, GB, GiB, TB")
    return None


def number_list(value: v.Value, sink: Sink, what: str, whole: bool = False) -> list[float] | list[int] | None:
    if not isinstance(value, v.ListV):
        wrong(sink, "E0103", what, "a list such as `[500, 850]`", value)
        return None
    out = [integer(i, sink, f"each item of {what}") if whole else number(i, sink, f"each item of {what}")
           for i in value.items]
    return None if any(x is None for x in out) else out  # type: ignore[return-value]


def date_bound(value: v.Value, sink: Sink, what: str) -> tuple[datetime.datetime, bool] | None:
    """A date or a year; the flag says the bound names whole days (a year or a date without a time)."""
    if isinstance(value, v.Date):
        return value.value, not value.has_time
    if isinstance(value, v.Num) and isinstance(value.value, int) and 1800 <= value.value <= 2300:
        return datetime.datetime(value.value, 1, 1), True
    wrong(sink, "E0102", what, "a year (`2019`) or a date (`2019-01-01`)", value)
    return None


def date_range(value: v.Value, sink: Sink, what: str) -> tuple[datetime.datetime, datetime.datetime, bool] | None:
    """(first time, last day or time, last-is-whole-day).  ``1979..2018`` ends on 2018-12-31."""
    if isinstance(value, v.RangeV):
        start, end = date_bound(value.start, sink, what), date_bound(value.end, sink, what)
        if start is None or end is None:
            return None
        last, whole = end
        if isinstance(value.end, v.Num):
            last = datetime.datetime(last.year, 12, 31)
        if last < start[0]:
            sink.error("E0107", f"{what} ends before it starts", value.span,
                       hint="write the earlier date first: `start..end`")
            return None
        return start[0], last, whole
    if isinstance(value, v.Num) and isinstance(value.value, int) and 1800 <= value.value <= 2300:
        return datetime.datetime(value.value, 1, 1), datetime.datetime(value.value, 12, 31), True
    wrong(sink, "E0102", what, "a range of years or dates such as `1979..2018`", value)
    return None
