"""The plan's loss on grid shards (``keep_batch_sharded``): each rank of a model group holds its grid points.

Every term's per-variable sums over grid points (Anemoi's formula sums over the grid) are added up over
the model group before the term is finished (variable reduction, RMSE's root), so each rank gets the loss
of the whole grid; its gradient reaches each rank's predictions unchanged (``sum_replicated``). Not a
module: it holds no state of its own, only the plan's loss, which the training module owns.
"""

from __future__ import annotations

from torch import Tensor

from anemoic.runtime.distributed.collectives import Comm, sum_replicated
from anemoic.runtime.losses.weighted import CombinedLoss


class GridShardedLoss:
    """loss(pred, target, *, lead_time_index=None, nan_mask=None) on this rank's grid points ``grid``."""

    def __init__(self, loss: CombinedLoss, grid: slice, comm: Comm) -> None:
        self.loss, self.grid, self.comm = loss, grid, comm

    def __call__(self, pred: Tensor, target: Tensor, *, lead_time_index: int | None = None,
                 nan_mask: Tensor | None = None) -> Tensor:
        total: Tensor | None = None
        for weight, term in zip(self.loss.weights, self.loss.terms):
            parts = term.per_variable(pred, target, lead_time_index=lead_time_index, nan_mask=nan_mask,
                                      grid=self.grid)
            value = weight * term.finish(sum_replicated(parts, self.comm))
            total = value if total is None else total + value
        assert total is not None
        return total
