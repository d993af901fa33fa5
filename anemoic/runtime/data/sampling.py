"""Which windows of dates make samples, and which rank reads which sample.

A sample is ``length`` states ``step`` store-dates apart (``step = timestep /
frequency``).  A window is valid when all its dates lie inside the split's date
range and none is a missing date.  Sample order is a permutation drawn from
``seed + epoch`` (the same on every rank), cut into disjoint, equally long shares
per data-parallel rank; the ranks of one model group (``gpus_per_model``) share a
data-parallel rank and so read the same samples.  Training engineers: use
``Trainer(use_distributed_sampler=False)`` so Lightning keeps this sampler.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Sampler

from anemoic.datasets.store import Store
from anemoic.plan.units import format_duration
from anemoic.runtime.distributed.groups import contiguous_parts


def step_in_dates(store: Store, timestep_s: int) -> int:
    """Store dates per model timestep; the timestep must be a multiple of the store frequency."""
    frequency_s = store.metadata.frequency_s
    if timestep_s <= 0 or timestep_s % frequency_s:
        raise store.error(
            f"timestep {format_duration(timestep_s)} is not a multiple of the store frequency "
            f"{format_duration(frequency_s)}"
        )
    return timestep_s // frequency_s


def window_starts(store: Store, start: str, end: str, step: int, length: int) -> np.ndarray:
    """Store indices of the first date of every valid window inside [start, end]."""
    first = np.datetime64(start, "s")
    last = np.datetime64(end, "s")
    dates = store.dates
    inside = (dates >= first) & (dates <= last)
    missing = {np.datetime64(d, "s") for d in store.metadata.missing_dates}
    usable = inside & np.array([d not in missing for d in dates], dtype=bool)
    span = (length - 1) * step
    candidates = np.arange(0, max(len(dates) - span, 0))
    ok = np.ones(len(candidates), dtype=bool)
    for k in range(length):
        ok &= usable[candidates + k * step]
    return candidates[ok]


def grid_shard(grid_size: int, shard: int, shards: int) -> slice:
    """The contiguous slice of grid points that shard `shard` of `shards` reads (sizes differ by <= 1): the
    partition a model group's ranks own too, so a rank of a full read group reads exactly its shard."""
    bounds = contiguous_parts(grid_size, shards)
    return slice(bounds[shard], bounds[shard + 1])


class ShardedWindowSampler(Sampler[int]):
    """Deterministic per-epoch order; rank `dp_rank` of `dp_size` gets every dp_size-th sample.

    Every rank gets the same number of samples (the few left over are dropped in
    shuffled mode, so DDP ranks never wait on one another).  ``skip`` drops the first
    samples of the current epoch's share, for resuming mid-epoch.
    """

    def __init__(self, size: int, *, dp_rank: int = 0, dp_size: int = 1, seed: int = 0, shuffle: bool = True) -> None:
        if not 0 <= dp_rank < dp_size:
            raise ValueError(f"data-parallel rank {dp_rank} is not in [0, {dp_size})")
        self.size, self.dp_rank, self.dp_size = size, dp_rank, dp_size
        self.seed, self.shuffle = seed, shuffle
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self) -> list[int]:
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=generator).tolist()
            per_rank = self.size // self.dp_size
            return order[self.dp_rank : per_rank * self.dp_size : self.dp_size]
        # validation: every sample once, spread over the ranks (shares differ by at most one)
        return list(range(self.dp_rank, self.size, self.dp_size))

    def __iter__(self) -> Iterator[int]:
        return iter(self.order()[self.skip :])

    def __len__(self) -> int:
        return max(len(self.order()) - self.skip, 0)

