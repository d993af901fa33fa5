"""Synthetic stores in the anemoi-datasets layout, for tests and benchmarks of any size.

``write_synthetic_store`` evaluates :class:`~anemoic.datasets.toy_physics.ToyAtmosphere`
on a chosen grid and writes it with :class:`~anemoic.datasets.writer.StoreWriter`,
so a synthetic store differs from a real one only in its numbers.  Gaps
(``missing_dates``) and NaNs (a fixed fraction of points of chosen variables, as
sea-surface temperature has over land) are placed on request.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from anemoic.geo.grids import Grid, grid_points
from anemoic.datasets.dates import months_in, parse_frequency
from anemoic.datasets.toy_physics import WaveField, ToyAtmosphere
from anemoic.datasets.writer import StoreWriter

DEFAULT_VARIABLES = ("z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp", "lsm")
_BLOCK_BYTES = 64 * 2**20  # dates evaluated per write: bounded memory for large grids


def write_synthetic_store(
    path: str | os.PathLike,
    *,
    grid: Grid = "o16",
    variables: Iterable[str] = DEFAULT_VARIABLES,
    start: str = "2020-01-01",
    end: str = "2020-01-31T18:00",
    frequency: str = "6h",
    ensembles: int = 1,
    missing_dates: Iterable[str | datetime.datetime] = (),
    nan_fraction: float = 0.0,
    nan_variables: Iterable[str] = (),
    seed: int = 0,
    statistics_end: str | None = None,
    grid_chunk: int | None = None,
    compressed: bool = True,
    area: tuple[float, float, float, float] | None = None,
) -> Path:
    """Write a synthetic store at `path` (replacing one already there) and return the path.

    ``area`` = (north, west, south, east) in degrees keeps only the grid's points inside it: a regional
    store (a limited-area model's region; its toy atmosphere is its own, not a global store's cut out)."""
    variables = tuple(variables)
    if not variables or len(set(variables)) != len(variables):
        raise ValueError(f"variables must be a non-empty list of distinct names, got {variables}")
    frequency_s = parse_frequency(frequency)
    dates = _dates(start, end, frequency_s, months_in(frequency))
    missing = tuple(np.datetime64(_iso(d), "s") for d in missing_dates)
    unknown = [d for d in missing if d not in set(dates)]
    if unknown:
        raise ValueError(f"missing date {unknown[0]} is not one of the store's dates")
    nan_variables = tuple(nan_variables)
    if any(v not in variables for v in nan_variables):
        raise ValueError(f"nan_variables {nan_variables} must be among the variables {variables}")
    if not 0.0 <= nan_fraction < 1.0:
        raise ValueError(f"nan_fraction must be in [0, 1), got {nan_fraction}")
    if ensembles < 1:
        raise ValueError(f"ensembles must be >= 1, got {ensembles}")
    lat, lon, resolution, field_shape = grid_points(grid)
    if area is not None:
        lat, lon, field_shape = _inside(lat, lon, area)
    stats_end = np.datetime64(_iso(statistics_end), "s") if statistics_end else dates[-1]
    writer = StoreWriter(
        path,
        variables=variables,
        dates=dates,
        latitudes=lat,
        longitudes=lon,
        ensembles=ensembles,
        frequency_s=frequency_s,
        attrs=_attributes(variables, resolution, field_shape, seed),
        statistics_start=dates[0],
        statistics_end=stats_end,
        missing_dates=missing,
        grid_chunk=grid_chunk,
        compressed=compressed,
    )
    atmosphere = ToyAtmosphere(lat, lon, frequency_s, seed)
    member_rng = np.random.default_rng(seed + 104729)
    members = [WaveField(member_rng, lat, lon, frequency_s, memory_days=1.0) for _ in range(ensembles - 1)]
    nan_mask = _nan_mask(variables, nan_variables, nan_fraction, len(lat), seed)
    block_dates = max(1, _BLOCK_BYTES // (len(variables) * ensembles * len(lat) * 4))
    times = (dates - np.datetime64("1970-01-01T00:00:00", "s")).astype(np.int64)
    for first in range(0, len(dates), block_dates):
        chunk = times[first : first + block_dates]
        block = np.empty((len(chunk), len(variables), ensembles, len(lat)), np.float32)
        for i, time_s in enumerate(chunk):
            state = atmosphere.evaluate(variables, float(time_s))
            block[i, :, 0] = state
            spread = 0.05 * state.std(axis=1, keepdims=True)
            for e, member in enumerate(members, start=1):
                block[i, :, e] = state + spread * member.value(float(time_s))[None, :].astype(np.float32)
                member.step()
            atmosphere.advance()
        if nan_mask is not None:
            block[:, nan_mask[0], :, :] = np.where(nan_mask[1][None, :, None, :], np.nan, block[:, nan_mask[0]])
        writer.write(block)
    return writer.close()


def _inside(lat: np.ndarray, lon: np.ndarray, area: tuple[float, float, float, float]
            ) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    north, west, south, east = area
    east_of_west = (lon - west) % 360.0
    keep = (lat <= north) & (lat >= south) & (east_of_west <= (east - west) % 360.0)
    if not keep.any():
        raise ValueError(f"no point of the grid lies inside the area {area}")
    return lat[keep], lon[keep], (int(keep.sum()),)


def _dates(start: str, end: str, frequency_s: int, months: int) -> np.ndarray:
    first, last = np.datetime64(_iso(start), "s"), np.datetime64(_iso(end), "s")
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    if months:  # a frequency spelled in months ("1mo"): calendar months, first of each month
        return np.arange(first.astype("datetime64[M]"), last.astype("datetime64[M]") + 1, months).astype("datetime64[s]")
    return np.arange(first, last + np.timedelta64(1, "s"), np.timedelta64(frequency_s, "s"))


def _iso(value: str | datetime.datetime) -> str:
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


def _nan_mask(variables: tuple[str, ...], nan_variables: tuple[str, ...], fraction: float, n_grid: int,
              seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(variable indices, (n, G) bool mask): the same points are NaN at every date."""
    if not nan_variables or fraction <= 0.0:
        return None
    rng = np.random.default_rng(seed + 15485863)
    index = np.array([variables.index(v) for v in nan_variables])
    mask = rng.random((len(index), n_grid)) < fraction
    return index, mask


def _attributes(variables: tuple[str, ...], resolution: str, field_shape: tuple[int, ...], seed: int) -> dict:
    metadata = {}
    for name in variables:
        param, _, level = name.partition("_")
        entry: dict = {"param": param if level.isdigit() else name, "mars": {"param": param}}
        if level.isdigit():
            entry.update(level=int(level), mars={"param": param, "levelist": int(level), "levtype": "pl"})
        entry["constant_in_time"] = name == "lsm"
        metadata[name] = entry
    return {
        "resolution": resolution,
        "field_shape": list(field_shape),
        "variables_metadata": metadata,
        "constant_fields": [v for v in variables if v == "lsm"],
        "data_request": {"grid": resolution, "area": "g", "param_level": {}},
        "description": f"anemoic synthetic toy atmosphere (seed {seed})",
        "licence": "CC0-1.0",
        "attribution": "anemoic synthetic data",
        "provenance": {"writer": "anemoic data synth", "seed": seed},
    }
