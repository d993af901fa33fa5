"""A rank's place in its model group, as the training loop sees it: what it reads, computes and scores.

Built once per rank after the process groups exist (``ForecastModule.setup``). The rank owns the grid
points ``data_range`` and the hidden nodes ``hidden_range`` (``groups.contiguous_parts``, the same
partition its read slice uses). Without ``keep_batch_sharded`` a read group gathers its slices into
whole samples, the model returns the whole grid to every rank of the group and the loss is computed on
it by each (identically); with it, the batch, the model's output, the loss and the scores stay on the
rank's grid points, and the loss's sums are added up over the group.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from anemoic.plan.model import Plan
from anemoic.runtime.distributed.collectives import Comm, gather_data
from anemoic.runtime.distributed.groups import GroupLayout, ProcessGroups, contiguous_parts
from anemoic.runtime.models.sharded import ShardContext


def _sizes(total: int, parts: int) -> tuple[int, ...]:
    bounds = contiguous_parts(total, parts)
    return tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))


@dataclass(frozen=True)
class Sharding:
    layout: GroupLayout
    context: ShardContext  # what the model needs
    read: Comm  # this rank's read group
    read_sizes: tuple[int, ...]  # grid points each rank of the read group reads

    @classmethod
    def build(cls, plan: Plan, groups: ProcessGroups, grid_size: int, hidden_size: int) -> Sharding:
        layout, parallel = groups.layout, plan.parallel
        model = Comm(groups.model, layout.model_size, layout.model_rank)
        context = ShardContext(model, parallel.shard_strategy, parallel.keep_batch_sharded,
                               _sizes(grid_size, layout.model_size), _sizes(hidden_size, layout.model_size))
        read = Comm(groups.read, layout.read_size, layout.read_rank)
        return cls(layout, context, read, _sizes(grid_size, layout.read_size))

    @property
    def batch_sharded(self) -> bool:
        return self.context.batch_sharded

    @property
    def data_range(self) -> slice:
        return self.context.data_range

    def assemble(self, batch: Tensor) -> Tensor:
        """A batch as this rank read it ``(B, T, E, G_read, V)`` -> the grid the model group works on."""
        if self.batch_sharded or self.read.size == 1:
            return batch
        return gather_data(batch, 3, self.read_sizes, self.read)

    def local(self, tensor: Tensor, grid_dim: int) -> Tensor:
        """This rank's grid points of a tensor the model group holds whole (a kept-sharded one already is)."""
        return tensor if self.batch_sharded else tensor.narrow(grid_dim, self.data_range.start,
                                                               self.data_range.stop - self.data_range.start)

    def whole(self, tensor: Tensor, grid_dim: int) -> Tensor:
        """The whole grid of a tensor the ranks hold in shards (no gradient; e.g. a field to plot)."""
        if not self.batch_sharded:
            return tensor
        return gather_data(tensor.contiguous(), grid_dim, self.context.data_sizes, self.context.comm)

    @property
    def counts_samples(self) -> bool:
        """Whether this rank counts the samples it scores (one rank per model group does)."""
        return self.layout.model_rank == 0
