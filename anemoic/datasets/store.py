"""An opened store in the anemoi-datasets zarr layout: its checked metadata, and its values, torch-free.

The metadata, coordinates, statistics and NaN flags come from ``anemoic.datasets.metadata``
(no zarr import); ``data`` is opened through zarr on first use, so a model shard reads only
the chunks of its own slice.  Callers import the store's names from here: ``open_store``,
``read_metadata``, ``Store``, ``StoreError``, ``StoreMetadata``, ``parse_frequency``, ``to_datetime``.
"""

from __future__ import annotations

import datetime
import os
from functools import cached_property
from typing import Any

import numpy as np

from anemoic.datasets.dates import parse_frequency, to_datetime
from anemoic.datasets.metadata import STATISTICS, MetadataReader, StoreError, StoreMetadata, read_metadata

__all__ = ["STATISTICS", "Store", "StoreError", "StoreMetadata", "open_store", "parse_frequency", "read_metadata",
           "to_datetime"]


def open_store(path: str | os.PathLike) -> "Store":
    return Store(path)


class Store:
    """An opened store: metadata, coordinates and statistics eagerly, ``data`` lazily."""

    def __init__(self, path: str | os.PathLike) -> None:
        self._reader = reader = MetadataReader(path)
        self.path = reader.path
        self.attrs: dict[str, Any] = reader.attrs
        self.metadata: StoreMetadata = reader.metadata
        self.dates: np.ndarray = reader.dates
        self.latitudes: np.ndarray = reader.latitudes
        self.longitudes: np.ndarray = reader.longitudes
        self.statistics: dict[str, np.ndarray] = reader.stats
        self.has_nans: np.ndarray | None = reader.nan_flags  # per variable, from the store's `has_nans` array

    def error(self, problem: str) -> StoreError:
        return self._reader.error(problem)

    @property
    def variables(self) -> tuple[str, ...]:
        return self.metadata.variables

    @cached_property
    def name_to_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.metadata.variables)}

    def tendency_statistics(self, frequency: str | int) -> dict[str, np.ndarray] | None:
        """Statistics of x(t+step) - x(t) for a step ("6h" or seconds), or None when the store has none."""
        seconds = frequency if isinstance(frequency, int) else parse_frequency(frequency)
        for text in self.metadata.tendency_frequencies:
            if parse_frequency(text) == seconds:
                return self._reader.statistics(f"statistics_tendencies_{text}_") or None
        return None

    @cached_property
    def data(self) -> Any:
        """The ``data`` array as a read-only zarr array (zarr imported here, not at module import)."""
        import zarr

        try:
            return zarr.open_array(str(self.path / "data"), mode="r")
        except Exception as exc:
            raise self.error(f"`data` cannot be opened: {exc}") from exc

    def date_index(self, when: datetime.datetime | str) -> int:
        """Index of a date in the store (exact match), or StoreError."""
        value = np.datetime64(when if isinstance(when, str) else when.isoformat(), "s")
        index = int(np.searchsorted(self.dates, value))
        if index >= len(self.dates) or self.dates[index] != value:
            raise self.error(
                f"has no date {value} (it holds {self.dates[0]} to {self.dates[-1]} every {self.metadata.frequency})"
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
