"""Stores in the anemoi-datasets zarr layout: metadata and array access, torch-free.

The layout (written by ``anemoi-datasets`` with zarr 2, and by ``anemoic data
import|synth``): a root group with array ``data`` float32 ``(dates, variables,
ensembles, values)``, ``dates`` datetime64, ``latitudes``/``longitudes`` ``(values,)``,
statistics ``mean``/``stdev``/``minimum``/``maximum`` ``(variables,)`` and optional
``statistics_tendencies_<freq>_<stat>``; attributes ``variables`` (or
``name_to_index``), ``frequency``, ``start_date``, ``end_date``, ``missing_dates``,
``resolution``, ``field_shape``, ``variables_metadata``, ``constant_fields``.

The compiler reads metadata through :func:`read_metadata`, so this module imports
only numpy at import time (zarr costs ~0.45 s and is imported only to read ``data``).
Every problem with a store is a :class:`StoreError` whose message names the store.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from anemoic.datasets.zarr_v2 import GroupReader, UnreadableError
from anemoic.plan.errors import UserError

STATISTICS = ("mean", "stdev", "minimum", "maximum")
_DIMENSION_NAMES = (
    {"time", "date", "dates"},
    {"variable", "variables"},
    {"ensemble", "ensembles", "member"},
    {"values", "cell", "cells", "grid", "points"},
)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Calendar months (monthly means of observations): dates are first-of-month, one month apart;
# in seconds a month counts as a Julian month (365.25 / 12 days), which the language spells `1mo`.
MONTH_S = 2_629_800


class StoreError(UserError):
    """A store is missing, malformed or unsuitable; the message names the store."""


@dataclass(frozen=True)
class StoreMetadata:
    path: str
    variables: tuple[str, ...]  # store order
    frequency_s: int
    start_date: datetime.datetime  # naive UTC
    end_date: datetime.datetime
    missing_dates: tuple[datetime.datetime, ...]
    grid_size: int
    ensemble_size: int
    statistics_missing: frozenset[str]  # variables whose mean/stdev/minimum/maximum are absent or NaN
    fingerprint: str  # sha256 over attributes, array shapes/dtypes and dates
    resolution: str | None
    field_shape: tuple[int, ...] | None
    constant_fields: tuple[str, ...]
    date_count: int = 0
    tendency_frequencies: tuple[str, ...] = ()  # e.g. ("6h",): statistics_tendencies_6h_* present
    variables_metadata: dict[str, Any] | None = None


def parse_frequency(text: str | int) -> int:
    """Seconds in an anemoi frequency ("6h", "1d", "30m", "PT6H", or an int of hours)."""
    if isinstance(text, int):
        return text * 3600
    monthly = re.fullmatch(r"\s*(\d+)\s*(mo|month|months)\s*", str(text).lower())
    if monthly:
        return int(monthly.group(1)) * MONTH_S
    match = re.fullmatch(r"\s*(\d+)\s*(s|min|m|h|d|w)\s*", str(text).lower())
    if match:
        return int(match.group(1)) * _UNITS[match.group(2)]
    iso = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", str(text).upper())
    if iso and any(iso.groups()):
        d, h, m, s = (int(g or 0) for g in iso.groups())
        return ((d * 24 + h) * 60 + m) * 60 + s
    if str(text).isdigit():
        return int(text) * 3600
    raise ValueError(f"unrecognised frequency {text!r}")


def frequency_to_string(seconds: int) -> str:
    """The anemoi spelling of a frequency: "6h", "1d", "30m", "45s" (and "1mo" for calendar months)."""
    if seconds % MONTH_S == 0:
        return f"{seconds // MONTH_S}mo"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def to_datetime(value: np.datetime64) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=int(value.astype("datetime64[s]").astype(np.int64)))


def read_metadata(path: str | os.PathLike) -> StoreMetadata:
    """The metadata of the store at `path` (fast: no zarr import for v2 stores)."""
    return open_store(path).metadata


def open_store(path: str | os.PathLike) -> "Store":
    return Store(path)


class Store:
    """An opened store: metadata, coordinates and statistics eagerly, ``data`` lazily."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError(f"dataset {self.path}: does not exist")
        try:
            self._group = GroupReader(self.path)
        except UnreadableError as exc:
            raise StoreError(f"dataset {self.path}: {exc}") from exc
        self.attrs: dict[str, Any] = dict(self._group.attrs)
        self.metadata = self._check_and_describe()

    # -- errors -----------------------------------------------------------------------------------------

    def error(self, problem: str) -> StoreError:
        return StoreError(f"dataset {self.path}: {problem}")

    def _read(self, name: str) -> np.ndarray:
        try:
            return self._group.read(name)
        except UnreadableError as exc:
            raise self.error(str(exc)) from exc

    # -- metadata ---------------------------------------------------------------------------------------

    def _check_and_describe(self) -> StoreMetadata:
        data = self._group.info("data")
        if data is None:
            raise self.error("has no `data` array (is it an anemoi-datasets store?)")
        variables = self._variables()
        self.dates = self._dates()
        for name in ("latitudes", "longitudes"):
            if self._group.info(name) is None:
                raise self.error(f"has no `{name}` array")
        self.latitudes = self._read("latitudes").astype(np.float64).reshape(-1)
        self.longitudes = self._read("longitudes").astype(np.float64).reshape(-1)
        self._check_shape(data.shape, data.attrs, len(variables))
        frequency_s = self._frequency(self.dates)
        self.statistics = self._statistics(STATISTICS, len(variables))
        missing_stats = {
            v for i, v in enumerate(variables)
            if any(name not in self.statistics or not np.isfinite(self.statistics[name][i]) for name in STATISTICS)
        }
        field_shape = self.attrs.get("field_shape")
        return StoreMetadata(
            path=str(self.path),
            variables=variables,
            frequency_s=frequency_s,
            start_date=to_datetime(self.dates[0]),
            end_date=to_datetime(self.dates[-1]),
            missing_dates=self._missing_dates(),
            grid_size=int(data.shape[3]),
            ensemble_size=int(data.shape[2]),
            statistics_missing=frozenset(missing_stats),
            fingerprint=self._fingerprint(),
            resolution=None if self.attrs.get("resolution") is None else str(self.attrs["resolution"]),
            field_shape=None if field_shape is None else tuple(int(n) for n in field_shape),
            constant_fields=tuple(self.attrs.get("constant_fields") or ()),
            date_count=int(len(self.dates)),
            tendency_frequencies=self._tendency_frequencies(),
            variables_metadata=self.attrs.get("variables_metadata"),
        )

    def _variables(self) -> tuple[str, ...]:
        if "variables" in self.attrs:
            return tuple(str(v) for v in self.attrs["variables"])
        if "name_to_index" in self.attrs:
            by_index = sorted((int(i), str(n)) for n, i in self.attrs["name_to_index"].items())
            if [i for i, _ in by_index] != list(range(len(by_index))):
                raise self.error("attribute `name_to_index` does not number the variables 0..N-1")
            return tuple(n for _, n in by_index)
        raise self.error("has neither a `variables` nor a `name_to_index` attribute")

    def _dates(self) -> np.ndarray:
        if self._group.info("dates") is None:
            raise self.error("has no `dates` array")
        dates = self._read("dates")
        if dates.dtype.kind != "M":
            raise self.error(f"`dates` has dtype {dates.dtype}, expected datetime64")
        if dates.ndim != 1 or len(dates) == 0:
            raise self.error(f"`dates` has shape {dates.shape}, expected one or more dates")
        return dates.astype("datetime64[s]")

    def _check_shape(self, shape: tuple[int, ...], attrs: dict[str, Any], n_variables: int) -> None:
        expected = "(dates, variables, ensembles, values)"
        names = attrs.get("_ARRAY_DIMENSIONS") or attrs.get("dimensions") or self.attrs.get("dimensions")
        if names is not None:
            if len(names) != 4 or not all(str(n).lower() in ok for n, ok in zip(names, _DIMENSION_NAMES)):
                raise self.error(f"wrong dimension order: `data` dimensions are {tuple(names)}, expected {expected}")
        if len(shape) != 4:
            raise self.error(f"`data` has {len(shape)} dimensions {shape}, expected 4 {expected}")
        n_dates, n_grid = len(self.dates), len(self.latitudes)
        if shape[0] != n_dates or shape[3] != n_grid:
            raise self.error(
                f"wrong dimension order: `data` has shape {shape}, expected {expected} = "
                f"({n_dates}, {n_variables}, E, {n_grid}) from `dates` and `latitudes`"
            )
        if shape[1] != n_variables:
            raise self.error(
                f"the variables attribute names {n_variables} variables but `data` has {shape[1]} along axis 1"
            )
        if len(self.longitudes) != n_grid:
            raise self.error(f"`latitudes` has {n_grid} values but `longitudes` has {len(self.longitudes)}")

    def _frequency(self, dates: np.ndarray) -> int:
        steps = np.diff(dates.astype(np.int64))
        declared = self.attrs.get("frequency")
        try:
            frequency_s = parse_frequency(declared) if declared is not None else None
        except ValueError:
            raise self.error(f"attribute `frequency` {declared!r} is not a frequency like '6h' or '1d'") from None
        if frequency_s is None:
            if len(steps) == 0:
                raise self.error("has a single date and no `frequency` attribute")
            frequency_s = int(steps[0])
        if frequency_s % MONTH_S == 0:
            months = dates.astype("datetime64[M]")
            in_month = dates - months.astype("datetime64[s]")
            steps = np.where(in_month[1:] == in_month[0], np.diff(months.astype(np.int64)) * MONTH_S, -1)
        uneven = np.flatnonzero(steps != frequency_s)
        if len(uneven):
            i = int(uneven[0])
            raise self.error(
                f"dates are not evenly spaced: {to_datetime(dates[i]):%Y-%m-%dT%H:%M} -> "
                f"{to_datetime(dates[i + 1]):%Y-%m-%dT%H:%M} is {int(dates[i + 1].astype(np.int64) - dates[i].astype(np.int64))} s, the frequency is "
                f"{frequency_to_string(frequency_s)} ({frequency_s} s)"
            )
        if frequency_s <= 0:
            raise self.error(f"frequency {frequency_s} s is not positive")
        return frequency_s

    def _statistics(self, names: tuple[str, ...], n_variables: int, prefix: str = "") -> dict[str, np.ndarray]:
        """Per-variable statistics, shape (V,); stores that keep them per point are reduced exactly."""
        out: dict[str, np.ndarray] = {}
        raw = {n: self._read(prefix + n).astype(np.float64) for n in names if self._group.info(prefix + n) is not None}
        for name, values in raw.items():
            if values.ndim == 0 or values.shape[0] != n_variables:
                raise self.error(f"statistic `{prefix}{name}` has shape {values.shape}, expected ({n_variables},)")
            flat = values.reshape(n_variables, -1)
            if name == "minimum":
                out[name] = flat.min(axis=1)
            elif name == "maximum":
                out[name] = flat.max(axis=1)
            else:
                out[name] = flat.mean(axis=1)
        if "stdev" in raw and "mean" in raw and raw["stdev"].ndim > 1:
            # pooled over equally sized groups: var = mean(var_i + (mean_i - mean)^2)
            means = raw["mean"].reshape(n_variables, -1)
            stdevs = raw["stdev"].reshape(n_variables, -1)
            out["stdev"] = np.sqrt((stdevs**2 + (means - out["mean"][:, None]) ** 2).mean(axis=1))
        return out

    def _tendency_frequencies(self) -> tuple[str, ...]:
        found = set()
        for name in self._group.array_names():
            match = re.fullmatch(r"statistics_tendencies_(\w+?)_(mean|stdev|minimum|maximum)", name)
            if match:
                found.add(match.group(1))
        return tuple(sorted(found))

    def tendency_statistics(self, frequency: str | int) -> dict[str, np.ndarray] | None:
        """Statistics of x(t+step) - x(t) for a step ("6h" or seconds), or None when the store has none."""
        seconds = frequency if isinstance(frequency, int) else parse_frequency(frequency)
        for text in self.metadata.tendency_frequencies:
            if parse_frequency(text) == seconds:
                stats = self._statistics(STATISTICS, len(self.metadata.variables), f"statistics_tendencies_{text}_")
                return stats or None
        return None

    def _missing_dates(self) -> tuple[datetime.datetime, ...]:
        out = []
        for text in self.attrs.get("missing_dates") or ():
            try:
                out.append(datetime.datetime.fromisoformat(str(text)).replace(tzinfo=None))
            except ValueError:
                raise self.error(f"attribute `missing_dates` has {text!r}, not an ISO-8601 date") from None
        return tuple(sorted(out))

    def _fingerprint(self) -> str:
        shapes = {}
        for name in self._group.array_names():
            info = self._group.info(name)
            assert info is not None
            shapes[name] = [list(info.shape), info.dtype.str]
        digest = hashlib.sha256()
        digest.update(json.dumps({"attrs": self.attrs, "arrays": shapes}, sort_keys=True, default=str).encode())
        digest.update(self.dates.astype("datetime64[s]").astype("<i8").tobytes())
        return digest.hexdigest()

    # -- data access ------------------------------------------------------------------------------------

    @property
    def variables(self) -> tuple[str, ...]:
        return self.metadata.variables

    @cached_property
    def name_to_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.metadata.variables)}

    @cached_property
    def data(self) -> Any:
        """The ``data`` array as a read-only zarr array (zarr imported here, not at module import)."""
        import zarr

        try:
            return zarr.open_array(str(self.path / "data"), mode="r")
        except Exception as exc:
            raise self.error(f"`data` cannot be opened: {exc}") from exc

    @cached_property
    def has_nans(self) -> np.ndarray | None:
        """Per-variable flags from the store's `has_nans` array, or None when it has none."""
        if self._group.info("has_nans") is None:
            return None
        flags = self._read("has_nans").astype(bool)
        return flags.reshape(len(self.metadata.variables), -1).any(axis=1)

    def date_index(self, when: datetime.datetime | str) -> int:
        """Index of a date in the store (exact match), or StoreError."""
        value = np.datetime64(when if isinstance(when, str) else when.isoformat(), "s")
        index = int(np.searchsorted(self.dates, value))
        if index >= len(self.dates) or self.dates[index] != value:
            raise self.error(
                f"has no date {value} (it holds {self.dates[0]} to {self.dates[-1]} "
                f"every {frequency_to_string(self.metadata.frequency_s)})"
            )
        return index

    def read(self, date: int, variables: Any = slice(None), grid: slice = slice(None)) -> np.ndarray:
        """``data[date, variables, :, grid]`` as float32 ``(variables, ensembles, values)``.

        Only the chunks overlapping `grid` are read, so a model shard reads its own slice.
        """
        try:
            block = self.data.get_orthogonal_selection((date, variables, slice(None), grid))
        except StoreError:
            raise
        except Exception as exc:  # a corrupt or truncated chunk: name the date
            when = f"{to_datetime(self.dates[date]):%Y-%m-%dT%H:%M}" if 0 <= date < len(self.dates) else date
            raise self.error(f"chunk of `data` at date {when} cannot be read: {type(exc).__name__}: {exc}") from exc
        return np.asarray(block, dtype=np.float32)

    def read_dates(self, dates: slice, variables: Any = slice(None), grid: slice = slice(None)) -> np.ndarray:
        """``data[dates, variables, :, grid]`` as float32 ``(dates, variables, ensembles, values)``.

        One selection, so zarr fetches and decodes the dates' chunks concurrently instead of one date
        after another (a training sample is a window of several dates). A failure is re-read date by
        date, so the message names the date whose chunk is broken.
        """
        try:
            block = self.data.get_orthogonal_selection((dates, variables, slice(None), grid))
        except StoreError:
            raise
        except Exception:
            return np.stack([self.read(date, variables, grid) for date in range(*dates.indices(len(self.dates)))])
        return np.asarray(block, dtype=np.float32)
