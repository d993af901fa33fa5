"""A spatial downscaler's data: the coarse (source) and the fine (target) store read at the same valid times.

A sample is two states over the model's grid, the coarse points then the fine ones
(``anemoic.graphs.downscale``), both at one valid time t: ``(2, E, G_coarse + G_fine, V_data)``.

* state 0, the model's input: the coarse field on the coarse points; on the fine points the coarse field
  interpolated onto them (``plan.source.interpolation``, NaN-aware) for every variable read from the stores
  but forcings, which are the fine grid's own (computed there, or read from the fine store);
* state 1, the truth: the coarse field again on the coarse points (never scored: their node weight is 0),
  the fine store's field on the fine points.

Dates are the fine store's; a date the coarse store lacks leaves its sample out (counted, and said once).
The coarse points are normalised with the coarse store's statistics, the fine points with the fine store's
(one preprocessor with per-point buffers, ``runtime.data.cutout.segmented``, as a limited-area model's).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from anemoic.datasets.store import Store, open_store
from anemoic.geo.interpolation import InterpolationMatrix, bilinear
from anemoic.graphs.downscale import combined_grid
from anemoic.plan.windows import Split
from anemoic.runtime.data.cutout import segmented
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.data.dataset import WindowDataset
from anemoic.runtime.data.preprocessing import Preprocessor

LOGGER = logging.getLogger(__name__)


class PairDataset(Dataset):
    """Item ``i``: the float32 tensor ``(2, E, G_coarse + G_fine, V_data)`` described in the module docstring."""

    def __init__(self, coarse: WindowDataset, fine: WindowDataset, matrix: InterpolationMatrix,
                 interpolated: np.ndarray) -> None:
        self.coarse, self.fine, self.matrix = coarse, fine, matrix
        self.interpolated = np.asarray(interpolated, dtype=np.int64)  # data channels taken from the coarse field

    def __len__(self) -> int:
        return len(self.fine)

    def dates(self, index: int) -> np.ndarray:
        """Both states' valid time: the same t twice."""
        return np.repeat(self.fine.dates(index), 2)

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.read(index))

    def read(self, index: int) -> np.ndarray:
        coarse, fine = self.coarse.read(index)[:1], self.fine.read(index)[:1]  # (1, E, G, V) each
        base = fine.copy()
        if len(self.interpolated):
            base[..., self.interpolated] = self.matrix.apply(coarse[..., self.interpolated]).astype(np.float32)
        return np.concatenate([np.concatenate([coarse, base], axis=2), np.concatenate([coarse, fine], axis=2)])


class PairDataModule(AnemoicDataModule):
    """The data module of a plan with a ``source``: ``store`` is the fine (target) store, ``source_store`` the
    coarse one; loaders, samplers and ranks are the base class's."""

    def __init__(self, plan: Any, **kwargs: Any) -> None:
        super().__init__(plan, **kwargs)
        source = plan.source
        self.source_store: Store = open_store(source.dataset.path)
        self.source_channels = self._channels(self.source_store, source.variables)
        self._check_store(self.source_store, source.dataset, self.source_channels)  # fingerprint, grid, NaNs
        self.matrix = bilinear(self.source_store.latitudes, self.source_store.longitudes,
                               self.store.latitudes, self.store.longitudes)
        by_name = {v.name: v for v in plan.variables}
        self.interpolated = np.array([i for i, name in enumerate(plan.indices.data)
                                      if by_name[name].role != "forcing"], dtype=np.int64)
        # the model's data nodes: the coarse points, then the fine ones
        self.latitudes, self.longitudes = combined_grid(self.source_store.latitudes, self.source_store.longitudes,
                                                        self.store.latitudes, self.store.longitudes)
        self.grid_size = len(self.latitudes)
        missing = {np.datetime64(d, "s") for d in self.source_store.metadata.missing_dates}
        self._source_index = {np.datetime64(d, "s"): i for i, d in enumerate(self.source_store.dates)
                              if np.datetime64(d, "s") not in missing}
        self.train_starts = self._in_source("train", self.train_starts)
        self.validation_starts = self._in_source("validate", self.validation_starts)

    @property
    def source_size(self) -> int:
        return int(self.source_store.metadata.grid_size)

    def _in_source(self, split: Split, starts: np.ndarray) -> np.ndarray:
        """The samples whose date the coarse store holds (the others are left out, and counted)."""
        keep = np.array([np.datetime64(d, "s") in self._source_index for d in self.store.dates[starts]], dtype=bool)
        if not keep.all():
            LOGGER.warning("%s: %d %s sample(s) left out: their dates are not in %s", self.plan.dataset.name,
                           int((~keep).sum()), split, self.source_store.path)
        if not keep.any():
            raise self.source_store.error(f"holds none of the {split} dates of {self.plan.dataset.path}")
        return starts[keep]

    def source_starts(self, starts: np.ndarray) -> np.ndarray:
        """The coarse store's index of each of these fine-store dates."""
        return np.array([self._source_index[np.datetime64(d, "s")] for d in self.store.dates[starts]],
                        dtype=np.int64)

    def pair_at(self, starts: np.ndarray, source_starts: np.ndarray) -> PairDataset:
        """The samples at these fine-store and coarse-store date indices."""
        fine = WindowDataset(str(self.store.path), self.channels, starts, step=self.step, length=1)
        coarse = WindowDataset(str(self.source_store.path), self.source_channels, source_starts, step=1, length=1)
        return PairDataset(coarse, fine, self.matrix, self.interpolated)

    def dataset(self, split: Split, *, sharded: bool = False) -> PairDataset:  # type: ignore[override]
        """The whole grid always: the compiler refuses a downscaler on a sharded model (E1420)."""
        starts = self.train_starts if split == "train" else self.validation_starts
        return self.pair_at(starts, self.source_starts(starts))

    def source_index(self, date: np.datetime64) -> int:
        """The coarse store's index of ``date`` (a StoreError naming the store when it lacks it)."""
        when = np.datetime64(date, "s")
        if when not in self._source_index:
            raise self.source_store.error(f"has no state at {when}")
        return self._source_index[when]

    def preprocessor(self) -> Preprocessor:
        """The coarse points normalised (and imputed) with the coarse store's statistics, the fine points with
        the fine store's: one preprocessor with per-point buffers, as a limited-area model's."""
        fine = super().preprocessor()
        view = replace(self.plan, variables=self.plan.source.variables, dataset=self.plan.source.dataset,
                       source=None, task=replace(self.plan.task, kind="autoencoder"))  # the same channels
        coarse = Preprocessor.from_plan(view, self.source_store.statistics, store_name=str(self.source_store.path))
        return segmented(coarse, fine, self.source_size, int(self.store.metadata.grid_size))


