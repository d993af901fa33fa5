"""What a store in the anemoi-datasets zarr layout says about itself, checked, without zarr or torch.

The layout (written by ``anemoi-datasets`` with zarr 2, and by ``anemoic data
import|synth``): a root group with array ``data`` float32 ``(dates, variables,
ensembles, values)``, ``dates`` datetime64, ``latitudes``/``longitudes`` ``(values,)``,
statistics ``mean``/``stdev``/``minimum``/``maximum`` ``(variables,)``, optional
``statistics_tendencies_<freq>_<stat>`` and ``has_nans`` ``(variables,)``; attributes
``variables`` (or ``name_to_index``), ``frequency``, ``start_date``, ``end_date``,
``missing_dates``, ``resolution``, ``field_shape``, ``variables_metadata``, ``constant_fields``.

The compiler checks an experiment against :func:`read_metadata` in milliseconds, so this module
reads JSON and small arrays only (``zarr_v2.GroupReader``); the opened store
(``anemoic.datasets.store.Store``) keeps the reader's small arrays and adds the values.
Every problem with a store is a :class:`StoreError` whose message names the store.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from anemoic.datasets.dates import Frequency, store_frequency, to_datetime
from anemoic.datasets.zarr_v2 import GroupReader, UnreadableError
from anemoic.plan.errors import UserError

STATISTICS = ("mean", "stdev", "minimum", "maximum")
_DIMENSION_NAMES = (
    {"time", "date", "dates"},
    {"variable", "variables"},
    {"ensemble", "ensembles", "member"},
    {"values", "cell", "cells", "grid", "points"},
)


class StoreError(UserError):
    """A store is missing, malformed or unsuitable; the message names the store."""


@dataclass(frozen=True)
class StoreMetadata:
    path: str
    variables: tuple[str, ...]  # store order
    frequency_s: int  # a calendar month counts as units.MONTH_S
    frequency: str  # as the store spells it ("6h", "43830m", "1mo"); for messages
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
    # variables the store's `has_nans` array marks (NaNs at some date), None when the store has no such array
    variables_with_nans: frozenset[str] | None = None


def read_metadata(path: str | os.PathLike) -> StoreMetadata:
    """The checked metadata of the store at ``path`` (fast: no zarr import for v2 stores)."""
    return MetadataReader(path).metadata


class MetadataReader:
    """Reads and checks a store's metadata; keeps the small arrays it read (dates, coordinates, statistics,
    NaN flags) for the opened store, which reads values."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StoreError(f"dataset {self.path}: does not exist")
        try:
            self.group = GroupReader(self.path)
        except UnreadableError as exc:
            raise StoreError(f"dataset {self.path}: {exc}") from exc
        self.attrs: dict[str, Any] = dict(self.group.attrs)
        self.metadata = self._check_and_describe()

    def error(self, problem: str) -> StoreError:
        return StoreError(f"dataset {self.path}: {problem}")

    def read(self, name: str) -> np.ndarray:
        """The whole (small) array ``name``."""
        try:
            return self.group.read(name)
        except UnreadableError as exc:
            raise self.error(str(exc)) from exc

    def statistics(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Per-variable statistics named ``prefix + stat``, shape (V,); stores that keep them per point are
        reduced exactly.  Only those present."""
        n_variables = len(self.variables)
        out: dict[str, np.ndarray] = {}
        raw = {n: self.read(prefix + n).astype(np.float64) for n in STATISTICS
               if self.group.info(prefix + n) is not None}
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

    # -- checks ------------------------------------------------------------------------------------------

    def _check_and_describe(self) -> StoreMetadata:
        data = self.group.info("data")
        if data is None:
            raise self.error("has no `data` array (is it an anemoi-datasets store?)")
        self.variables = variables = self._variables()
        self.dates = self._dates()
        for name in ("latitudes", "longitudes"):
            if self.group.info(name) is None:
                raise self.error(f"has no `{name}` array")
        self.latitudes = self.read("latitudes").astype(np.float64).reshape(-1)
        self.longitudes = self.read("longitudes").astype(np.float64).reshape(-1)
        self._check_shape(data.shape, data.attrs, len(variables))
        frequency = self._frequency()
        self.stats = self.statistics()
        missing_stats = {
            v for i, v in enumerate(variables)
            if any(name not in self.stats or not np.isfinite(self.stats[name][i]) for name in STATISTICS)
        }
        self.nan_flags = self._nan_flags()
        field_shape = self.attrs.get("field_shape")
        return StoreMetadata(
            path=str(self.path),
            variables=variables,
            frequency_s=frequency.seconds,
            frequency=frequency.text,
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
            variables_with_nans=None if self.nan_flags is None else frozenset(
                name for name, flag in zip(variables, self.nan_flags) if flag),
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
        if self.group.info("dates") is None:
            raise self.error("has no `dates` array")
        dates = self.read("dates")
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

    def _frequency(self) -> Frequency:
        try:
            return store_frequency(self.dates, self.attrs.get("frequency"))
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def _nan_flags(self) -> np.ndarray | None:
        """Per-variable flags from the store's ``has_nans`` array (any member or point), or None without one."""
        if self.group.info("has_nans") is None:
            return None
        flags = self.read("has_nans").astype(bool)
        if flags.ndim == 0 or flags.shape[0] != len(self.variables):
            raise self.error(f"`has_nans` has shape {flags.shape}, expected ({len(self.variables)},)")
        return flags.reshape(len(self.variables), -1).any(axis=1)

    def _tendency_frequencies(self) -> tuple[str, ...]:
        found = set()
        for name in self.group.array_names():
            match = re.fullmatch(r"statistics_tendencies_(\w+?)_(mean|stdev|minimum|maximum)", name)
            if match:
                found.add(match.group(1))
        return tuple(sorted(found))

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
        for name in self.group.array_names():
            info = self.group.info(name)
            assert info is not None
            shapes[name] = [list(info.shape), info.dtype.str]
        digest = hashlib.sha256()
        digest.update(json.dumps({"attrs": self.attrs, "arrays": shapes}, sort_keys=True, default=str).encode())
        digest.update(self.dates.astype("datetime64[s]").astype("<i8").tobytes())
        return digest.hexdigest()
