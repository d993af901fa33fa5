"""A torch Dataset of sample windows read from a store.

Item ``i`` is a float32 tensor ``(time, ensemble, grid, variable)``: ``length``
consecutive states ``step`` store-dates apart, variables in the plan's
``indices.data`` order (store variables, then computed forcings wherever the plan
puts them), grid restricted to ``grid`` (a model shard reads only its slice; a limited-area model's
boundary, the points of an index array).
The store is opened lazily in each worker process (never shared across a fork).
Variables without an imputer must not hold NaNs: a sample that has some raises
a StoreError naming the variable and the date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from anemoic.datasets.forcings import compute_forcing, is_time_dependent
from anemoic.datasets.store import Store, open_store, to_datetime


@dataclass(frozen=True)
class Channel:
    """One variable of the sample: from the store (store_index >= 0) or computed."""

    name: str
    store_index: int = -1
    computed: str | None = None
    nan_allowed: bool = False  # True when the plan gives it an imputer


class WindowDataset(Dataset):
    def __init__(
        self,
        store_path: str,
        channels: Sequence[Channel],
        starts: np.ndarray,
        *,
        step: int,
        length: int,
        grid: slice | np.ndarray = slice(None),
        check_nans: bool = True,
    ) -> None:
        self.store_path = str(store_path)
        self.channels = tuple(channels)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.step, self.length, self.grid = step, length, grid
        # points picked by index (a limited-area model's boundary): read their span, then take them (a zarr
        # selection by index array is several times slower than a slice)
        picked = not isinstance(grid, slice)
        self._grid_read = slice(int(grid.min()), int(grid.max()) + 1) if picked else grid
        self._grid_take = grid - int(grid.min()) if picked else None
        self.check_nans = check_nans  # False only when the store's has_nans flags clear every channel
        self._store: Store | None = None
        stored = [(pos, c.store_index) for pos, c in enumerate(self.channels) if c.store_index >= 0]
        self._out_positions = np.array([p for p, _ in stored], dtype=np.int64)
        store_indices = np.array([s for _, s in stored], dtype=np.int64)
        if len(store_indices):
            self._read_slice = slice(int(store_indices.min()), int(store_indices.max()) + 1)
            take = store_indices - store_indices.min()
            whole = len(take) == self._read_slice.stop - self._read_slice.start and (take == np.arange(len(take))).all()
            self._take = None if whole else take
        else:
            self._read_slice, self._take = slice(0, 0), None
        # stored channels usually sit side by side: a slice assignment is ~10x faster than a scatter
        first = int(self._out_positions[0]) if len(self._out_positions) else 0
        contiguous = (self._out_positions == np.arange(first, first + len(self._out_positions))).all()
        self._out_slice = slice(first, first + len(self._out_positions)) if contiguous else None
        self._static_cache: dict[str, np.ndarray] = {}

    # the opened store holds zarr objects: never pickle it into worker processes
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_store"] = None
        return state

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.store_path)
        return self._store

    def __len__(self) -> int:
        return len(self.starts)

    def dates(self, index: int) -> np.ndarray:
        """The valid dates (datetime64[s]) of sample `index`."""
        first = int(self.starts[index])
        return self.store.dates[first : first + self.length * self.step : self.step]

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.read(index))

    def read(self, index: int) -> np.ndarray:
        store = self.store
        first = int(self.starts[index])
        latitudes = store.latitudes[self.grid]
        longitudes = store.longitudes[self.grid]
        n_ensembles = store.metadata.ensemble_size
        out = np.empty((self.length, n_ensembles, len(latitudes), len(self.channels)), dtype=np.float32)
        if len(self._out_positions):
            window = slice(first, first + (self.length - 1) * self.step + 1, self.step)
            block = store.read_dates(window, self._read_slice, self._grid_read)  # (T, V, E, G)
            if self._grid_take is not None:
                block = block[..., self._grid_take]
            if self._take is not None:
                block = block[:, self._take]
            if self._out_slice is not None:
                out[..., self._out_slice] = block.transpose(0, 2, 3, 1)
            else:
                out[..., self._out_positions] = block.transpose(0, 2, 3, 1)
        for t in range(self.length):
            date_index = first + t * self.step
            for pos, channel in enumerate(self.channels):
                if channel.computed is not None:
                    out[t, :, :, pos] = self._forcing(channel.computed, store.dates[date_index], latitudes, longitudes)
        if self.check_nans:
            self._check_nans(out, first)
        return out

    def _forcing(self, name: str, date: np.datetime64, latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
        if is_time_dependent(name):
            return compute_forcing(name, date, latitudes, longitudes)
        if name not in self._static_cache:
            self._static_cache[name] = compute_forcing(name, date, latitudes, longitudes)
        return self._static_cache[name]

    def _check_nans(self, sample: np.ndarray, first: int) -> None:
        has_nan = np.isnan(sample).any(axis=(1, 2))  # (T, V)
        if not has_nan.any():
            return
        for pos, channel in enumerate(self.channels):
            times = np.flatnonzero(has_nan[:, pos])
            if len(times) and not channel.nan_allowed:
                when = to_datetime(self.store.dates[first + int(times[0]) * self.step])
                raise self.store.error(
                    f"variable {channel.name!r} has NaNs at {when:%Y-%m-%dT%H:%M} but the plan gives it no imputer "
                    f"(add one in the `variables` block, e.g. `impute = {{ {channel.name}: mean }}`, or choose dates "
                    "without NaNs)"
                )


def collate_samples(samples: list[torch.Tensor]) -> torch.Tensor:
    """Stack samples into a batch; a batch of one is a view, not a copy (batch 1 is common per GPU)."""
    if len(samples) == 1:
        return samples[0].unsqueeze(0)
    return torch.stack(samples)
