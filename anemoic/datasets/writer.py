"""Write a store in the anemoi-datasets zarr v2 layout, block by block, with its statistics.

Shared by ``anemoic data synth`` and ``anemoic data import`` so that both produce
exactly the layout the reader (and the real ``anemoi-datasets``) expects.  The
store is written under a temporary name and renamed into place at the end, so a
crash never leaves a half-written store at the target path.  Statistics (mean,
stdev, minimum, maximum, and tendency statistics at the store frequency) cover
only the dates of the statistics period that are not missing, ignoring NaNs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from anemoic.datasets.dates import frequency_text


class _Accumulator:
    """Running count/sum/sum of squares/min/max per variable, NaN-aware."""

    def __init__(self, n_variables: int) -> None:
        self.count = np.zeros(n_variables, np.int64)
        self.sums = np.zeros(n_variables, np.float64)
        self.squares = np.zeros(n_variables, np.float64)
        self.minimum = np.full(n_variables, np.inf)
        self.maximum = np.full(n_variables, -np.inf)

    def add(self, block: np.ndarray) -> None:
        """`block` is (T, V, E, G)."""
        values = np.moveaxis(block, 1, 0).reshape(block.shape[1], -1).astype(np.float64)
        finite = np.isfinite(values)
        filled = np.where(finite, values, 0.0)
        self.count += finite.sum(axis=1)
        self.sums += filled.sum(axis=1)
        self.squares += (filled**2).sum(axis=1)
        self.minimum = np.minimum(self.minimum, np.where(finite, values, np.inf).min(axis=1))
        self.maximum = np.maximum(self.maximum, np.where(finite, values, -np.inf).max(axis=1))

    def result(self) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            n = np.where(self.count > 0, self.count, np.nan)
            mean = self.sums / n
            stdev = np.sqrt(np.maximum(self.squares / n - mean**2, 0.0))
        empty = self.count == 0
        return {
            "mean": mean,
            "stdev": stdev,
            "minimum": np.where(empty, np.nan, self.minimum),
            "maximum": np.where(empty, np.nan, self.maximum),
        }


class StoreWriter:
    """Sequential writer: ``write(block)`` for consecutive date blocks, then ``close()``."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        variables: tuple[str, ...],
        dates: np.ndarray,
        latitudes: np.ndarray,
        longitudes: np.ndarray,
        ensembles: int,
        frequency_s: int,
        attrs: dict[str, Any],
        statistics_start: np.datetime64,
        statistics_end: np.datetime64,
        missing_dates: tuple[np.datetime64, ...] = (),
        grid_chunk: int | None = None,
        compressed: bool = True,
    ) -> None:
        import zarr

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        if self._tmp.exists():
            shutil.rmtree(self._tmp)
        self.dates = np.asarray(dates, dtype="datetime64[s]")
        self.variables = tuple(variables)
        self.frequency_s = frequency_s
        self._attrs = attrs
        self._missing = {np.datetime64(d, "s") for d in missing_dates}
        self._period = (np.datetime64(statistics_start, "s"), np.datetime64(statistics_end, "s"))
        self._stats = _Accumulator(len(variables))
        self._tendencies = _Accumulator(len(variables))
        self._has_nans = np.zeros(len(variables), bool)
        self._previous: np.ndarray | None = None  # last state, for tendencies across blocks
        self._next = 0
        self._group = zarr.open_group(str(self._tmp), mode="w", zarr_format=2)
        n_grid = len(latitudes)
        shape = (len(self.dates), len(variables), ensembles, n_grid)
        chunks = (1, len(variables), 1, min(grid_chunk or n_grid, n_grid))
        self._data = self._group.create_array(
            "data", shape=shape, chunks=chunks, dtype="float32", fill_value=np.nan,
            compressors="auto" if compressed else None,
        )
        self._small("dates", self.dates)
        self._small("latitudes", np.asarray(latitudes, dtype=np.float64))
        self._small("longitudes", np.asarray(longitudes, dtype=np.float64))

    def _small(self, name: str, values: np.ndarray) -> None:
        """Small arrays uncompressed: numpy reads them without zarr (fast metadata)."""
        self._group.create_array(name, data=values, compressors=None)

    def add_array(self, name: str, values: np.ndarray) -> None:
        """An extra (small) array beside the layout's, e.g. a forecast's area weights."""
        reserved = {"data", "dates", "latitudes", "longitudes", "mean", "stdev", "minimum", "maximum", "sums",
                    "squares", "count", "has_nans"}
        if name in reserved or name.startswith("statistics_"):
            raise ValueError(f"array name {name!r} belongs to the store layout")
        self._small(name, np.asarray(values))

    def write(self, block: np.ndarray) -> None:
        """Write the next `len(block)` dates; `block` is (T, V, E, G), missing dates may hold anything."""
        block = np.asarray(block, dtype=np.float32)
        start, stop = self._next, self._next + len(block)
        dates = self.dates[start:stop]
        missing = np.array([d in self._missing for d in dates], dtype=bool)
        if missing.any():
            block = block.copy()
            block[missing] = np.nan
        self._data[start:stop] = block
        valid = block[~missing]
        if len(valid):  # has_nans covers every non-missing date, not only the statistics period
            self._has_nans |= np.isnan(valid).any(axis=(0, 2, 3))
        in_period = (dates >= self._period[0]) & (dates <= self._period[1]) & ~missing
        if in_period.any():
            self._stats.add(block[in_period])
        for i in range(len(block)):
            previous, previous_ok = self._previous if self._previous is not None else (None, False)
            ok = bool(in_period[i])
            if previous is not None and previous_ok and ok:
                self._tendencies.add((block[i] - previous)[None])
            self._previous = (block[i], ok)
        self._next = stop

    def close(self) -> Path:
        """Write statistics and attributes, consolidate, and move the store into place."""
        import zarr

        if self._next != len(self.dates):
            raise RuntimeError(f"wrote {self._next} of {len(self.dates)} dates before close()")
        for name, values in self._stats.result().items():
            self._small(name, values)
        self._small("sums", self._stats.sums)
        self._small("squares", self._stats.squares)
        self._small("count", self._stats.count)
        self._small("has_nans", self._has_nans)
        freq = frequency_text(self.dates, self.frequency_s)  # "1mo" only for calendar months
        for name, values in self._tendencies.result().items():
            self._small(f"statistics_tendencies_{freq}_{name}", values)
        attrs = dict(self._attrs)
        attrs.update(
            variables=list(self.variables),
            frequency=freq,
            start_date=_iso(self.dates[0]),
            end_date=_iso(self.dates[-1]),
            missing_dates=[_iso(d) for d in sorted(self._missing)],
            statistics_start_date=_iso(self._period[0]),
            statistics_end_date=_iso(self._period[1]),
            ensemble_dimension=int(self._data.shape[2]),
            has_nans_scope="all_dates",  # anemoi-datasets' has_nans may cover the statistics period only
            flatten_grid=True,
        )
        self._group.attrs.update(attrs)
        self._data.attrs["_ARRAY_DIMENSIONS"] = ["time", "variable", "ensemble", "cell"]
        zarr.consolidate_metadata(str(self._tmp), zarr_format=2)
        return _move_into_place(self._tmp, self.path)


def _iso(value: np.datetime64) -> str:
    return str(np.datetime64(value, "s"))


def _move_into_place(tmp: Path, target: Path) -> Path:
    """Rename `tmp` to `target`, replacing an existing store only once the new one is complete."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
    return target
