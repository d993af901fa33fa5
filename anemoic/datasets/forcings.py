"""Computed forcings (``VariablePlan.computed``; ``store_index == -1`` in the plan).

Anemoi adds these at dataset-creation time; anemoic computes them at load time
from the grid and the valid date, so any store can use them.  All are numpy,
float32, shape ``(G,)`` for one date, in the same units as Anemoi's:
``*_julian_day`` use the fraction of the year since 1 January, ``*_local_time``
the local solar hour (UTC + longitude / 15), and ``insolation`` is the cosine of
the solar zenith angle clipped at zero (top-of-atmosphere insolation relative to
the solar constant, ignoring the Earth-Sun distance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from anemoic.plan.kinds import COMPUTED_FORCINGS, ComputedForcing

Forcing = Callable[[np.ndarray, np.ndarray, np.datetime64], np.ndarray]  # (lat, lon in radians, date) -> (G,)


def _year_angle(date: np.datetime64) -> float:
    return 2 * np.pi * _calendar(date)[0]


def _local_hour(lon: np.ndarray, date: np.datetime64) -> np.ndarray:
    """Local solar hour: UTC + longitude / 15."""
    return (_calendar(date)[1] + np.degrees(lon) / 15.0) % 24.0


def _insolation(lat: np.ndarray, lon: np.ndarray, date: np.datetime64) -> np.ndarray:
    declination = np.radians(23.44) * np.sin(2 * np.pi * (_calendar(date)[0] * 365.25 - 80.0) / 365.25)
    hour_angle = 2 * np.pi * (_local_hour(lon, date) - 12.0) / 24.0
    cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)
    return np.maximum(cos_zenith, 0.0)


IMPLEMENTATIONS: dict[ComputedForcing, Forcing] = {  # keyed by the vocabulary: tests/datasets/test_forcings.py
    "cos_latitude": lambda lat, lon, date: np.cos(lat),
    "sin_latitude": lambda lat, lon, date: np.sin(lat),
    "cos_longitude": lambda lat, lon, date: np.cos(lon),
    "sin_longitude": lambda lat, lon, date: np.sin(lon),
    "cos_julian_day": lambda lat, lon, date: np.full(len(lat), np.cos(_year_angle(date))),
    "sin_julian_day": lambda lat, lon, date: np.full(len(lat), np.sin(_year_angle(date))),
    "cos_local_time": lambda lat, lon, date: np.cos(2 * np.pi * _local_hour(lon, date) / 24.0),
    "sin_local_time": lambda lat, lon, date: np.sin(2 * np.pi * _local_hour(lon, date) / 24.0),
    "insolation": _insolation,
}
TIME_DEPENDENT: frozenset[str] = frozenset(
    {"cos_julian_day", "sin_julian_day", "cos_local_time", "sin_local_time", "insolation"})
__all__ = ["COMPUTED_FORCINGS", "IMPLEMENTATIONS", "TIME_DEPENDENT", "compute_forcing", "is_time_dependent"]


def is_time_dependent(name: str) -> bool:
    return name in TIME_DEPENDENT


def compute_forcing(name: str, date: np.datetime64, latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """The forcing `name` on the grid (latitudes/longitudes in degrees) at `date`, float32 (G,)."""
    forcing = IMPLEMENTATIONS.get(name)  # type: ignore[call-overload]  # any str may be asked
    if forcing is None:
        raise ValueError(f"unknown computed forcing {name!r}; known: {', '.join(COMPUTED_FORCINGS)}")
    return np.asarray(forcing(np.radians(latitudes), np.radians(longitudes), date), dtype=np.float32)


def _calendar(date: np.datetime64) -> tuple[float, float]:
    """(fraction of the year elapsed since 1 January 00 UTC, hour of the day UTC)."""
    seconds = np.datetime64(date, "s")
    year_start = seconds.astype("datetime64[Y]").astype("datetime64[s]")
    next_year = (seconds.astype("datetime64[Y]") + 1).astype("datetime64[s]")
    elapsed = (seconds - year_start).astype(np.int64)
    length = (next_year - year_start).astype(np.int64)
    day_start = seconds.astype("datetime64[D]").astype("datetime64[s]")
    hour = (seconds - day_start).astype(np.int64) / 3600.0
    return float(elapsed / length), float(hour)
