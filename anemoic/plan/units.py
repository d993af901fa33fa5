"""Durations: the units the language writes and the one formatter every message, table and store uses.

A calendar month counts as a Julian month (365.25 / 12 days) in seconds: monthly-mean stores date each
field on the first of its month, the language writes ``1mo``, and a plan holds whole seconds.  Whether
a store's dates step by calendar months or by a fixed interval is the store's business
(``anemoic.datasets.store``), not this number's.
"""

from __future__ import annotations

MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86_400
WEEK_S = 604_800
MONTH_S = 2_629_800

DURATION_UNITS = {"s": 1, "m": MINUTE_S, "h": HOUR_S, "d": DAY_S, "w": WEEK_S, "mo": MONTH_S}
"""Units of a duration literal (``6h``, ``1mo``) in seconds."""

_FORMAT_UNITS = (("mo", MONTH_S), ("d", DAY_S), ("h", HOUR_S), ("m", MINUTE_S))


def format_duration(seconds: int) -> str:
    """``6h``, ``1d``, ``30m``, ``45s``, ``1mo``: the largest unit that divides exactly (anemoi's spelling;
    weeks are written in days, as anemoi writes frequencies)."""
    for unit, size in _FORMAT_UNITS:
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
