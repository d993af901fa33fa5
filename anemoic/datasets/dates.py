"""A store's dates: their frequency in anemoi's spellings, fixed intervals vs calendar months, and datetimes.

anemoi-datasets writes the ``frequency`` attribute as ``6h``, ``1d``, ``30m``, ``PT6H`` or an int of
hours.  Monthly means are dated on the same day (usually the first) of successive months, which no
fixed interval matches, so their dates are checked month by month.  A store steps by calendar months
only when it says so, with a frequency spelled in months (``1mo``, ``1month``), or, having no
frequency attribute, when its dates fall on the same day and time of successive months.  A fixed
interval that happens to equal a Julian month (``43830m`` = 730.5 h = ``units.MONTH_S``) is a fixed
interval.  Either way the frequency in seconds counts a month as ``units.MONTH_S``, as the language's
``1mo`` does.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from anemoic.plan.units import DAY_S, DURATION_UNITS, HOUR_S, MINUTE_S, MONTH_S, format_duration

_MONTH_WORDS = ("mo", "month", "months")
_UNITS = {**DURATION_UNITS, "min": MINUTE_S, "month": MONTH_S, "months": MONTH_S}
_SPELLED = re.compile(rf"\s*(\d+)\s*({'|'.join(sorted(_UNITS, key=len, reverse=True))})\s*")
_ISO = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


@dataclass(frozen=True)
class Frequency:
    """How far apart a store's dates are."""

    seconds: int  # a calendar month counts as units.MONTH_S
    text: str  # as the store spells it ("6h", "43830m", "1mo"); format_duration(seconds) when it does not
    months: int = 0  # calendar months per step; 0 for a fixed interval


def parse_frequency(text: str | int) -> int:
    """Seconds in an anemoi frequency ("6h", "1d", "30m", "PT6H", "1mo", or an int of hours)."""
    if isinstance(text, int):
        return text * HOUR_S
    spelled = _SPELLED.fullmatch(str(text).lower())
    if spelled:
        return int(spelled.group(1)) * _UNITS[spelled.group(2)]
    iso = _ISO.fullmatch(str(text).upper())
    if iso and any(iso.groups()):
        d, h, m, s = (int(g or 0) for g in iso.groups())
        return ((d * 24 + h) * 60 + m) * 60 + s
    if str(text).isdigit():
        return int(text) * HOUR_S
    raise ValueError(f"unrecognised frequency {text!r}")


def months_in(text: str | int) -> int:
    """Calendar months per step of a frequency spelled in months ("1mo", "3 months"); 0 for any other spelling."""
    spelled = _SPELLED.fullmatch(str(text).lower())
    return int(spelled.group(1)) if spelled and spelled.group(2) in _MONTH_WORDS else 0


def store_frequency(dates: np.ndarray, declared: Any) -> Frequency:
    """The frequency of a store's ``dates`` (datetime64[s]) and its ``frequency`` attribute (None when absent).

    Raises ValueError with a message that the caller prefixes with the store's name.
    """
    if declared is not None:
        try:
            seconds = parse_frequency(declared)
        except ValueError:
            raise ValueError(f"attribute `frequency` {declared!r} is not a frequency like '6h' or '1d'") from None
        text = str(declared).strip() if isinstance(declared, str) else format_duration(seconds)
        frequency = Frequency(seconds, text, months_in(declared))
    elif len(dates) < 2:
        raise ValueError("has a single date and no `frequency` attribute")
    else:
        months = calendar_step(dates)
        seconds = months * MONTH_S if months else int(dates[1].astype(np.int64) - dates[0].astype(np.int64))
        frequency = Frequency(seconds, format_duration(seconds), months)
    _check_spacing(dates, frequency)
    if frequency.seconds <= 0:
        raise ValueError(f"frequency {frequency.seconds} s is not positive")
    return frequency


def calendar_step(dates: np.ndarray) -> int:
    """Months between successive dates when all fall on the same day and time of evenly spaced months, else 0."""
    if len(dates) < 2:
        return 0
    months = dates.astype("datetime64[M]")
    in_month = dates - months.astype("datetime64[s]")
    steps = np.diff(months.astype(np.int64))
    if steps[0] > 0 and (steps == steps[0]).all() and (in_month == in_month[0]).all():
        return int(steps[0])
    return 0


def frequency_text(dates: np.ndarray, seconds: int) -> str:
    """How a writer spells the frequency of ``dates``: in months when they step by calendar months (or are too
    few to tell), else in the largest fixed unit that divides it, as anemoi does (730.5 h is ``43830m``)."""
    if seconds % MONTH_S or len(dates) < 2 or calendar_step(dates) * MONTH_S == seconds:
        return format_duration(seconds)
    return next(f"{seconds // size}{unit}" for unit, size in (("d", DAY_S), ("h", HOUR_S), ("m", MINUTE_S), ("s", 1))
                if seconds % size == 0)


def _check_spacing(dates: np.ndarray, frequency: Frequency) -> None:
    if frequency.months:
        months = dates.astype("datetime64[M]")
        in_month = dates - months.astype("datetime64[s]")
        even = (in_month[1:] == in_month[0]) & (np.diff(months.astype(np.int64)) == frequency.months)
        plural = "s" if frequency.months > 1 else ""
        expected = f"the frequency is {frequency.text} (the same day and time {frequency.months} month{plural} later)"
    else:
        even = np.diff(dates.astype(np.int64)) == frequency.seconds
        expected = f"the frequency is {frequency.text} ({frequency.seconds} s)"
    uneven = np.flatnonzero(~even)
    if len(uneven):
        i = int(uneven[0])
        gap = int(dates[i + 1].astype(np.int64) - dates[i].astype(np.int64))
        raise ValueError(f"dates are not evenly spaced: {to_datetime(dates[i]):%Y-%m-%dT%H:%M} -> "
                         f"{to_datetime(dates[i + 1]):%Y-%m-%dT%H:%M} is {gap} s, {expected}")


def to_datetime(value: np.datetime64) -> datetime.datetime:
    """A naive UTC datetime of a numpy date (whole seconds)."""
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(value.astype("datetime64[s]").astype(np.int64)))
