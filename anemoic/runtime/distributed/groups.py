"""Who works with whom: model groups, read groups and data-parallel replicas from the plan's layout.

Ranks are numbered as SLURM and Lightning number them. A model group is ``gpus_per_model`` consecutive
ranks (on GPUs they share a node whenever ``gpus_per_model`` divides ``gpus_per_node``): they hold one
model replica together, see the same samples and split every layer's work. Model groups are data
parallel. A read group is ``read_group_size`` consecutive ranks inside a model group: each reads its
own slice of the grid of a sample and the group shares the slices.

``GroupLayout`` is the arithmetic (no torch.distributed, so it is checked before anything starts);
``ProcessGroups`` creates the process groups, which every rank must do for every group, in one order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from anemoic.plan.model import ParallelPlan
from anemoic.runtime.errors import RuntimeUserError


def contiguous_parts(size: int, parts: int) -> tuple[int, ...]:
    """Boundaries of ``parts`` contiguous ranges over ``size`` items whose lengths differ by at most one.

    The one partition used for reading grid slices (``runtime.data.sampling.grid_shard``) and for the
    destination nodes each rank of a model group owns, so a rank's read slice is its model shard.
    """
    return tuple(int(b) for b in np.linspace(0, size, parts + 1).round().astype(int))


@dataclass(frozen=True)
class GroupLayout:
    world_size: int
    rank: int
    model_size: int  # gpus_per_model
    read_size: int  # read_group_size

    @classmethod
    def from_plan(cls, parallel: ParallelPlan, world_size: int, rank: int) -> GroupLayout:
        """The layout of this rank, or a ``RuntimeUserError`` naming the numbers that do not fit."""
        check_layout(parallel, world_size)
        return cls(world_size, rank, parallel.gpus_per_model, parallel.read_group_size)

    @property
    def model_group(self) -> int:
        return self.rank // self.model_size

    @property
    def model_rank(self) -> int:
        """Position in the model group: which partition of every layer this rank owns."""
        return self.rank % self.model_size

    @property
    def data_parallel_size(self) -> int:
        return self.world_size // self.model_size

    @property
    def read_rank(self) -> int:
        """Position in the read group: which grid slice this rank reads."""
        return self.model_rank % self.read_size

    def model_groups(self) -> list[list[int]]:
        return [list(range(g, g + self.model_size)) for g in range(0, self.world_size, self.model_size)]

    def read_groups(self) -> list[list[int]]:
        return [list(range(g, g + self.read_size)) for g in range(0, self.world_size, self.read_size)]

    def model_ranks(self) -> list[int]:
        return self.model_groups()[self.model_group]

    def read_ranks(self) -> list[int]:
        return self.read_groups()[self.rank // self.read_size]


def started_world_size() -> int | None:
    """How many processes the launcher started (srun's tasks, torchrun's world), or None when the runtime
    starts them itself (Lightning's launcher, from the plan)."""
    import os

    from lightning.fabric.plugins.environments import SLURMEnvironment

    if SLURMEnvironment.detect() and os.environ.get("SLURM_NTASKS"):
        return int(os.environ["SLURM_NTASKS"])
    return int(os.environ["WORLD_SIZE"]) if os.environ.get("WORLD_SIZE") else None


def check_layout(parallel: ParallelPlan, world_size: int) -> None:
    """Refuse, before any process group exists, a layout the started ranks cannot form (e.g. SLURM gave
    another number of tasks than the plan was built for)."""
    shards, read = parallel.gpus_per_model, parallel.read_group_size
    expected = parallel.nodes * parallel.processes_per_node
    if world_size != expected:
        raise RuntimeUserError(
            f"error: {world_size} processes were started, but the plan's layout is {parallel.nodes} node(s) x "
            f"{parallel.processes_per_node} = {expected} (model groups of {shards}); start {expected} tasks "
            "(srun --ntasks-per-node) or rebuild the plan for this allocation")
    if shards < 1 or world_size % shards:
        raise RuntimeUserError(f"error: {world_size} processes cannot be split into model groups of "
                               f"gpus_per_model = {shards}; rebuild the plan with a divisor of {world_size}")
    if read < 1 or shards % read:
        raise RuntimeUserError(f"error: read groups of {read} do not divide model groups of {shards} "
                               "(parallel.read_group_size must divide parallel.gpus_per_model)")


class ProcessGroups:
    """The torch process groups of this rank's model group and read group (None: the rank alone)."""

    def __init__(self, layout: GroupLayout, backend: str | None = None) -> None:
        import torch.distributed as dist

        self.layout = layout
        self.model: Any = None
        self.read: Any = None
        # every rank creates every group, in the same order (torch.distributed requires it)
        for ranks in layout.model_groups() if layout.model_size > 1 else []:
            group = dist.new_group(ranks, backend=backend)
            if layout.rank in ranks:
                self.model = group
        if layout.read_size == layout.model_size:
            self.read = self.model
        elif layout.read_size > 1:
            for ranks in layout.read_groups():
                group = dist.new_group(ranks, backend=backend)
                if layout.rank in ranks:
                    self.read = group
