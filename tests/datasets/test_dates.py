"""A store's frequency: anemoi's spellings, fixed intervals vs calendar months, and how the writer spells them."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.datasets.dates import Frequency, calendar_step, frequency_text, months_in, parse_frequency, store_frequency
from anemoic.plan.units import MONTH_S


def _dates(*texts: str) -> np.ndarray:
    return np.array(texts, dtype="datetime64[s]")


def _fixed(first: str, step_s: int, count: int) -> np.ndarray:
    return np.datetime64(first, "s") + np.arange(count) * np.timedelta64(step_s, "s")


def test_anemoi_spellings() -> None:
    assert [parse_frequency(t) for t in ("6h", "1d", "30m", "PT6H", 6, "1mo", "43830m", "2 months", "15min")] == [
        21600, 86400, 1800, 21600, 21600, MONTH_S, MONTH_S, 2 * MONTH_S, 900]
    assert [months_in(t) for t in ("1mo", "3months", "1 month", "43830m", "730h", 6)] == [1, 3, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="unrecognised frequency"):
        parse_frequency("often")


def test_a_month_spelled_in_months_is_calendar_months() -> None:
    monthly = _dates("2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01")
    assert store_frequency(monthly, "1mo") == Frequency(MONTH_S, "1mo", 1)
    assert store_frequency(monthly[::2], "2months") == Frequency(2 * MONTH_S, "2months", 2)


def test_a_fixed_interval_equal_to_a_julian_month_is_a_fixed_interval() -> None:
    dates = _fixed("2020-01-01", MONTH_S, 5)
    assert store_frequency(dates, "43830m") == Frequency(MONTH_S, "43830m", 0)
    assert store_frequency(dates, None) == Frequency(MONTH_S, "1mo", 0)  # even spacing: the first step
    with pytest.raises(ValueError, match=r"is 2678400 s, the frequency is 43830m \(2629800 s\)$"):
        store_frequency(_dates("2020-01-01", "2020-02-01"), "43830m")  # calendar dates, fixed frequency


def test_without_an_attribute_dates_on_the_same_day_of_successive_months_are_monthly() -> None:
    assert store_frequency(_dates("2020-01-15T12", "2020-02-15T12", "2020-03-15T12"), None) == Frequency(
        MONTH_S, "1mo", 1)
    assert store_frequency(_dates("2020-01-01", "2020-04-01", "2020-07-01"), None).months == 3
    assert store_frequency(_fixed("2020-01-01", 21600, 8), None) == Frequency(21600, "6h", 0)
    assert calendar_step(_dates("2020-01-01", "2020-02-01", "2020-02-02")) == 0
    assert calendar_step(_dates("2020-01-01")) == 0


def test_uneven_calendar_months_are_refused() -> None:
    with pytest.raises(ValueError) as info:
        store_frequency(_dates("2020-01-01", "2020-02-01", "2020-04-01"), "1mo")
    assert str(info.value) == ("dates are not evenly spaced: 2020-02-01T00:00 -> 2020-04-01T00:00 is 5184000 s, "
                               "the frequency is 1mo (the same day and time 1 month later)")
    with pytest.raises(ValueError, match="2020-02-01T00:00 -> 2020-03-02T00:00"):
        store_frequency(_dates("2020-01-01", "2020-02-01", "2020-03-02"), "1mo")


def test_unreadable_or_missing_frequencies() -> None:
    with pytest.raises(ValueError, match="attribute `frequency` 'often' is not a frequency"):
        store_frequency(_dates("2020-01-01", "2020-01-02"), "often")
    with pytest.raises(ValueError, match="single date and no `frequency`"):
        store_frequency(_dates("2020-01-01"), None)


def test_the_writer_spells_months_only_for_calendar_months() -> None:
    assert frequency_text(_dates("2020-01-01", "2020-02-01"), MONTH_S) == "1mo"
    assert frequency_text(_dates("2020-01-01"), MONTH_S) == "1mo"  # one date cannot tell: the language's month
    assert frequency_text(_fixed("2020-01-01", MONTH_S, 3), MONTH_S) == "43830m"  # as anemoi-datasets writes it
    assert frequency_text(_fixed("2020-01-01", 2 * MONTH_S, 3), 2 * MONTH_S) == "1461h"
    assert frequency_text(_fixed("2020-01-01", 21600, 3), 21600) == "6h"
