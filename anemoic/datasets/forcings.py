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

import numpy as np

COMPUTED_FORCINGS = (
    "cos_latitude", "sin_latitude", "cos_longitude", "sin_longitude",
    "cos_julian_day", "sin_julian_day", "cos_local_time", "sin_local_time", "insolation",
)
_TIME_DEPENDENT = frozenset(COMPUTED_FORCINGS[4:])


def is_time_dependent(name: str) -> bool:
    return name in _TIME_DEPENDENT


def compute_forcing(name: str, date: np.datetime64, latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """The forcing `name` on the grid (latitudes/longitudes in degrees) at `date`."""
    lat = np.radians(latitudes)
    lon = np.radians(longitudes)
    if name == "cos_latitude":
        return np.cos(lat).astype(np.float32)
    if name == "sin_latitude":
        return np.sin(lat).astype(np.float32)
    if name == "cos_longitude":
        return np.cos(lon).astype(np.float32)
    if name == "sin_longitude":
        return np.sin(lon).astype(np.float32)
    year_fraction, hour_utc = _calendar(date)
    if name in ("cos_julian_day", "sin_julian_day"):
        angle = 2 * np.pi * year_fraction
        value = np.cos(angle) if name.startswith("cos") else np.sin(angle)
        return np.full(len(lat), value, dtype=np.float32)
    local_hour = (hour_utc + np.degrees(lon) / 15.0) % 24.0
    if name in ("cos_local_time", "sin_local_time"):
        angle = 2 * np.pi * local_hour / 24.0
        return (np.cos(angle) if name.startswith("cos") else np.sin(angle)).astype(np.float32)
    if name == "insolation":
        declination = np.radians(23.44) * np.sin(2 * np.pi * (year_fraction * 365.25 - 80.0) / 365.25)
        hour_angle = 2 * np.pi * (local_hour - 12.0) / 24.0
        cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)
        return np.maximum(cos_zenith, 0.0).astype(np.float32)
    raise ValueError(f"unknown computed forcing {name!r}; known: {', '.join(COMPUTED_FORCINGS)}")


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
