"""Computed forcings: values at known places and times."""

from __future__ import annotations

import numpy as np
import pytest

from anemoic.datasets import forcings
from anemoic.datasets.forcings import COMPUTED_FORCINGS, compute_forcing, is_time_dependent
from anemoic.plan import kinds

LAT = np.array([0.0, 60.0, -90.0])
LON = np.array([0.0, 90.0, 180.0])


def test_static_forcings() -> None:
    np.testing.assert_allclose(compute_forcing("cos_latitude", np.datetime64("2020-01-01"), LAT, LON), [1, 0.5, 0],
                               atol=1e-7)
    np.testing.assert_allclose(compute_forcing("sin_longitude", np.datetime64("2020-01-01"), LAT, LON), [0, 1, 0],
                               atol=1e-7)
    assert not is_time_dependent("cos_latitude") and is_time_dependent("insolation")


def test_time_forcings() -> None:
    noon = np.datetime64("2021-03-20T12:00:00")
    local = compute_forcing("cos_local_time", noon, LAT, LON)
    np.testing.assert_allclose(local, [-1.0, np.cos(2 * np.pi * 18 / 24), 1.0], atol=1e-6)  # 12h, 18h, 24h
    sun = compute_forcing("insolation", noon, np.array([0.0, 0.0]), np.array([0.0, 180.0]))
    assert sun[0] > 0.99 and sun[1] == 0.0  # equinox noon on the equator; midnight opposite
    jan1 = compute_forcing("cos_julian_day", np.datetime64("2021-01-01T00:00"), LAT, LON)
    np.testing.assert_allclose(jan1, 1.0)
    for name in COMPUTED_FORCINGS:
        values = compute_forcing(name, noon, LAT, LON)
        assert values.dtype == np.float32 and values.shape == (3,) and np.all(np.abs(values) <= 1.0 + 1e-6)
    with pytest.raises(ValueError, match="unknown computed forcing"):
        compute_forcing("cos_solar", noon, LAT, LON)


def test_every_forcing_of_the_vocabulary_has_one_implementation() -> None:
    assert forcings.COMPUTED_FORCINGS is kinds.COMPUTED_FORCINGS
    assert tuple(forcings.IMPLEMENTATIONS) == kinds.COMPUTED_FORCINGS
    assert forcings.TIME_DEPENDENT < set(kinds.COMPUTED_FORCINGS)
