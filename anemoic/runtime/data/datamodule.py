"""The Lightning DataModule built from a Plan: datasets, samplers, loaders, preprocessor.

A sample of a split is the window of states ``task.timestep_s`` apart that the plan's task asks for
(``Task.window``: for the forecaster, its inputs and the longest rollout of the split).
Batches are float32 ``(batch, time, ensemble, grid, variable)`` in
``plan.indices.data`` order.  Data-parallel rank = global rank // gpus_per_model:
the ranks of one model group read the same samples, and in a read group of
``parallel.read_group_size`` ranks each loader reads only its contiguous slice of the
grid (the training module assembles the slices, or keeps them with ``keep_batch_sharded``).
``dataset(split)`` without ``sharded`` is the whole grid (dry run, end-of-run report).

Use ``Trainer(use_distributed_sampler=False)``: the samplers here already split
samples between ranks deterministically (seed + epoch; Lightning calls
``set_epoch``).  To resume mid-epoch, set ``datamodule.train_sampler.skip`` to the
number of samples this rank already consumed in the current epoch.
"""

from __future__ import annotations

import dataclasses

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader

from anemoic.datasets.store import Store, open_store
from anemoic.plan.windows import Split
from anemoic.graphs.cutout import cutout_grid
from anemoic.runtime.data.cutout import CutoutWindowDataset, Skipped, aligned_windows, boundary_view, segmented
from anemoic.runtime.data.dataset import Channel, WindowDataset, collate_samples
from anemoic.runtime.data.preprocessing import Preprocessor, remap_numpy
from anemoic.runtime.data.sampling import ShardedWindowSampler, grid_shard, step_in_dates, window_starts
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.tasks import TASKS

UNRECORDED_FINGERPRINTS = ("", "0" * 64)  # plans built without the store (by hand, in tests) do not pin one


class Boundary:
    """A limited-area model's boundary store, its channels, the cut-out grid and its windows' start dates."""

    def __init__(self, data: "AnemoicDataModule") -> None:
        plan = data.plan
        self.plan, self.region_store, self.region_channels = plan, data.store, data.channels
        self.store: Store = open_store(plan.boundary.dataset.path)
        self.names = (plan.dataset.name, plan.boundary.dataset.name)
        self._channels_in = data._channels  # the sample's channels as a store holds them
        self.channels = self._channels_in(self.store, plan.boundary.variables)
        data._check_store(self.store, plan.boundary.dataset, self.channels)
        if not plan.dataset.grid_size:
            raise data.store.error("the limited-area plan does not record its region's grid size "
                                   "(plan.dataset.grid_size): rebuild the plan")
        if self.store.metadata.ensemble_size != data.store.metadata.ensemble_size:
            raise self.store.error(f"holds {self.store.metadata.ensemble_size} ensemble members, the region's store "
                                   f"{data.store.metadata.ensemble_size}")
        self.step = step_in_dates(self.store, plan.task.timestep_s)
        self.grid = cutout_grid(data.store.latitudes, data.store.longitudes, self.store.latitudes,
                                self.store.longitudes, plan.boundary.margin_km)
        self.starts: dict[str, np.ndarray] = {}

    def read_from(self, path: str) -> None:
        """Force the boundary from another store on the same grid (e.g. a global model's forecasts instead of the
        analyses it was trained on): its variables are found by name, the normalisation stays the training's."""
        other = open_store(path)
        held = other.metadata.variables
        absent = [v.name for v in self.plan.boundary.variables if v.store_index >= 0 and v.name not in held]
        if absent:
            raise other.error(f"lacks {', '.join(absent)}, which the boundary `{self.names[1]}` forces")
        if other.metadata.ensemble_size != self.store.metadata.ensemble_size:
            raise other.error(f"holds {other.metadata.ensemble_size} ensemble members, the boundary store "
                              f"{self.store.metadata.ensemble_size}")
        same_grid = len(other.latitudes) == len(self.store.latitudes) and np.allclose(
            other.latitudes, self.store.latitudes) and np.allclose(other.longitudes, self.store.longitudes)
        if not same_grid:
            raise other.error(f"is not on the grid of the boundary `{self.names[1]}` the model was trained with "
                              f"({len(other.latitudes)} points against {len(self.store.latitudes)})")
        variables = [dataclasses.replace(v, store_index=held.index(v.name)) if v.store_index >= 0 else v
                     for v in self.plan.boundary.variables]
        self.channels = self._channels_in(other, variables)
        self.store, self.step = other, step_in_dates(other, self.plan.task.timestep_s)

    def windows(self, split: Split, start: str, end: str, step: int, length: int) -> tuple[np.ndarray, Skipped]:
        """The region's starts of ``split`` whose dates both stores hold (the boundary's are kept here)."""
        region, boundary, skipped = aligned_windows(self.region_store, self.store, self.names, split, start, end,
                                                    step, length, self.step)
        self.starts[split] = boundary
        return region, skipped

    def dataset(self, region: np.ndarray, boundary: np.ndarray, length: int) -> CutoutWindowDataset:
        return CutoutWindowDataset(
            WindowDataset(str(self.region_store.path), self.region_channels, region,
                          step=step_in_dates(self.region_store, self.plan.task.timestep_s), length=length),
            WindowDataset(str(self.store.path), self.channels, boundary, step=self.step, length=length,
                          grid=self.grid.boundary_index))

    def preprocessor(self, region: Preprocessor, remapped: dict[str, dict[str, float]]) -> Preprocessor:
        outer = Preprocessor.from_plan(boundary_view(self.plan), self.store.statistics, remapped_statistics=remapped,
                                       store_name=str(self.store.path))
        return segmented(region, outer, self.grid.region_size, len(self.grid.boundary_index))


class AnemoicDataModule(pl.LightningDataModule):
    def __init__(self, plan: Any, *, global_rank: int | None = None, world_size: int | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.store: Store = open_store(plan.dataset.path)
        self._global_rank, self._world_size = global_rank, world_size
        self.channels = self._channels(self.store, plan.variables)
        self.step = step_in_dates(self.store, plan.task.timestep_s)
        self._check_store(self.store, plan.dataset, self.channels)
        task = TASKS[plan.task.kind]
        self.lengths: dict[Split, int] = {split: task.window(plan.task, split) for split in ("train", "validate")}
        self.boundary: Boundary | None = Boundary(self) if plan.boundary is not None else None
        self.latitudes, self.longitudes = ((self.boundary.grid.lat, self.boundary.grid.lon) if self.boundary
                                           else (self.store.latitudes, self.store.longitudes))
        self.grid_size = len(self.latitudes)  # the model's grid: a limited-area model's region and boundary
        self.skipped: dict[Split, Skipped] = {}  # a limited-area model's windows that a store lacks dates of
        self.train_starts = self._starts("train", plan.dataset.train)
        self.validation_starts = self._starts("validate", plan.dataset.validate)
        self.train_sampler: ShardedWindowSampler | None = None

    @classmethod
    def from_plan(cls, plan: Any, **kwargs: Any) -> "AnemoicDataModule":
        """A plan with a coarse ``source`` (a spatial downscaler) reads two stores (``runtime.data.pairs``)."""
        if getattr(plan, "source", None) is not None and cls is AnemoicDataModule:
            from anemoic.runtime.data.pairs import PairDataModule

            return PairDataModule(plan, **kwargs)
        return cls(plan, **kwargs)

    # -- checks -----------------------------------------------------------------------------------------

    def _channels(self, store: Store, variables: Any) -> list[Channel]:
        """The sample's channels (``plan.indices.data`` order) as ``store`` holds them."""
        by_name = {v.name: v for v in variables}
        held = store.metadata.variables
        channels = []
        for name in self.plan.indices.data:
            var = by_name[name]
            if var.store_index >= 0:
                if var.store_index >= len(held) or held[var.store_index] != name:
                    found = held[var.store_index] if var.store_index < len(held) else "nothing"
                    raise store.error(
                        f"the plan expects variable {name!r} at index {var.store_index}, the store has {found!r} "
                        f"there (rebuild the plan against this store)"
                    )
            elif var.computed is None:
                raise store.error(f"variable {name!r} is neither in the store nor a computed forcing")
            channels.append(Channel(name, var.store_index, var.computed, nan_allowed=var.imputer is not None))
        return channels

    def _check_store(self, store: Store, dataset: Any, channels: list[Channel]) -> None:
        meta = store.metadata
        if dataset.fingerprint not in UNRECORDED_FINGERPRINTS and dataset.fingerprint != meta.fingerprint:
            raise store.error(
                "its fingerprint differs from the one the plan was built against (the store changed): rebuild the plan"
            )
        if dataset.grid_size and dataset.grid_size != meta.grid_size:
            raise store.error(f"has {meta.grid_size} grid points, the plan expects {dataset.grid_size}")
        has_nans = store.has_nans
        if has_nans is not None:
            for channel in channels:
                if channel.store_index >= 0 and not channel.nan_allowed and bool(has_nans[channel.store_index]):
                    raise store.error(
                        f"variable {channel.name!r} has NaNs but the plan gives it no imputer "
                        f"(add one in the `variables` block, e.g. `impute = {{ {channel.name}: mean }}`)"
                    )

    def _starts(self, split: Split, dates: Any) -> np.ndarray:
        length = self.lengths[split]
        if self.boundary is not None:
            starts, self.skipped[split] = self.boundary.windows(split, dates.start, dates.end, self.step, length)
        else:
            starts = window_starts(self.store, dates.start, dates.end, self.step, length)
        if len(starts) == 0:
            raise self.store.error(
                f"the {split} dates {dates.start} to {dates.end} hold no window of {length} states "
                f"{self.plan.task.timestep_s} s apart without missing dates"
            )
        return starts

    def skipped_lines(self) -> list[str]:
        """One line per split that lost samples to dates a store lacks (a limited-area model's two stores)."""
        return [skipped.message() for skipped in self.skipped.values() if skipped.count]

    # -- ranks ------------------------------------------------------------------------------------------

    def _ranks(self) -> tuple[int, int]:
        if self._global_rank is not None and self._world_size is not None:
            return self._global_rank, self._world_size
        trainer = getattr(self, "trainer", None)
        if trainer is not None:
            return trainer.global_rank, trainer.world_size
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank(), torch.distributed.get_world_size()
        return 0, 1

    def data_parallel_rank(self) -> tuple[int, int]:
        """(data-parallel rank, data-parallel size) of this process."""
        rank, world = self._ranks()
        per_model = max(self.plan.parallel.gpus_per_model, 1)
        if world % per_model:
            raise ValueError(f"world size {world} is not a multiple of gpus_per_model {per_model}")
        return rank // per_model, world // per_model

    def read_slice(self) -> slice:
        """The grid points this rank's loaders read: its slice of a read group's samples (all without one)."""
        parallel = self.plan.parallel
        if parallel.read_group_size <= 1 or self.boundary is not None:  # a limited-area model is unsharded
            return slice(None)
        rank, _ = self._ranks()
        position = rank % max(parallel.gpus_per_model, 1) % parallel.read_group_size
        return grid_shard(self.store.metadata.grid_size, position, parallel.read_group_size)

    # -- datasets and loaders ---------------------------------------------------------------------------

    def dataset(self, split: Split, *, sharded: bool = False) -> WindowDataset | CutoutWindowDataset:
        """The samples of ``split``: the whole grid, or (``sharded``) this rank's read slice."""
        starts = self.train_starts if split == "train" else self.validation_starts
        if self.boundary is not None:
            return self.boundary.dataset(starts, self.boundary.starts[split], self.lengths[split])
        return WindowDataset(str(self.store.path), self.channels, starts, step=self.step, length=self.lengths[split],
                             grid=self.read_slice() if sharded else slice(None),
                             check_nans=self._may_hold_unimputed_nans())

    def forecast_window(self, first: int, length: int) -> WindowDataset | CutoutWindowDataset:
        """One window of ``length`` states from the store's date ``first``: what ``predict`` reads."""
        if self.boundary is None:
            return WindowDataset(str(self.store.path), self.channels, np.array([first]), step=self.step,
                                 length=length)
        region, boundary, skipped = aligned_windows(
            self.store, self.boundary.store, self.boundary.names, "forecast", str(self.store.dates[first]),
            str(self.store.dates[first + (length - 1) * self.step]), self.step, length, self.boundary.step)
        if not len(region):
            raise RuntimeUserError(f"error: the forecast reads dates that a store lacks: "
                                   f"{skipped.message().split(': ', 1)[1]}\nhint: choose another --date")
        return self.boundary.dataset(region, boundary, length)

    def _may_hold_unimputed_nans(self) -> bool:
        """False when the store's has_nans flags, computed over all dates, clear every channel without imputer."""
        has_nans = self.store.has_nans
        if has_nans is None or self.store.attrs.get("has_nans_scope") != "all_dates":
            return True
        return any(
            c.store_index >= 0 and not c.nan_allowed and bool(has_nans[c.store_index]) for c in self.channels
        )

    def _loader(self, dataset: WindowDataset, sampler: ShardedWindowSampler) -> DataLoader:
        training = self.plan.training
        workers = training.num_workers
        return DataLoader(
            dataset,
            batch_size=training.batch_size,
            sampler=sampler,
            num_workers=workers,
            pin_memory=training.pin_memory and torch.cuda.is_available(),
            prefetch_factor=training.prefetch_factor if workers > 0 else None,
            persistent_workers=workers > 0,
            drop_last=False,
            collate_fn=collate_samples,
        )

    def train_dataloader(self) -> DataLoader:
        dp_rank, dp_size = self.data_parallel_rank()
        self.train_sampler = ShardedWindowSampler(len(self.train_starts), dp_rank=dp_rank, dp_size=dp_size,
                                                  seed=self.plan.seed, shuffle=True)
        return self._loader(self.dataset("train", sharded=True), self.train_sampler)

    def val_dataloader(self) -> DataLoader:
        dp_rank, dp_size = self.data_parallel_rank()
        sampler = ShardedWindowSampler(len(self.validation_starts), dp_rank=dp_rank, dp_size=dp_size,
                                       seed=self.plan.seed, shuffle=False)
        return self._loader(self.dataset("validate", sharded=True), sampler)

    # -- preprocessing ----------------------------------------------------------------------------------

    def preprocessor(self) -> Preprocessor:
        region = Preprocessor.from_store(self.plan, self.store, remapped_statistics=self.remapped_statistics())
        if self.boundary is None:
            return region
        remapped = self.remapped_statistics(store=self.boundary.store, variables=self.plan.boundary.variables,
                                            starts=self.boundary.starts["train"])
        return self.boundary.preprocessor(region, remapped)

    def remapped_statistics(self, max_dates: int = 32, *, store: Store | None = None, variables: Any = None,
                            starts: np.ndarray | None = None) -> dict[str, dict[str, float]]:
        """Statistics of remapped variables after remapping, over (up to) `max_dates` training dates (of the
        region's store, or of ``store``: a limited-area model's boundary store, its variables and starts)."""
        store = store or self.store
        variables = self.plan.variables if variables is None else variables
        remapped = [(v.name, v.store_index, v.remap) for v in variables if v.remap and v.store_index >= 0]
        if not remapped:
            return {}
        dates = np.unique(self.train_starts if starts is None else starts)
        picks = dates[np.linspace(0, len(dates) - 1, min(max_dates, len(dates))).round().astype(int)]
        out = {}
        for name, index, remap in remapped:
            values = np.stack([store.read(int(d), [index])[0] for d in picks])
            values = remap_numpy(values[np.isfinite(values)].astype(np.float64), remap)
            out[name] = {"mean": float(values.mean()), "stdev": float(values.std()),
                         "minimum": float(values.min()), "maximum": float(values.max())}
        return out
