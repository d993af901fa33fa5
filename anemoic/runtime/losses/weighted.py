"""Anemoi's loss formula over one output step, and the weighted sum of several such terms.

For pred, target of shape (B, E, G, V) in normalised space and a point-wise error f:

    L = c_t * mean_{b, e} sum_g w_g sum_v s_v f(pred, target)[b, e, g, v]

with w_g the node weights (``graph["data"].area_weight``, normalised by the graph builder, unit
sum by default, so the grid sum is an area-weighted mean), s_v the product of the term's
variable scalers (general variable weights x pressure-level weights), c_t the lead-time decay.
Scalers a term does not select are 1. ``params = {"variable_reduction": "mean"}`` divides the
variable sum by V (Anemoi >= 0.5 averages; the default "sum" follows the weighted-sum formula).
RMSE is sqrt(L of MSE); CRPS replaces the mean over members by the ensemble CRPS; the energy score of
each variable's field (node weights inside its norm) replaces the grid sum as well:
L = c_t * mean_b sum_v s_v ES[b, v].
With a ``nan_mask`` scaler, missing targets (NaN in ``target`` or True in ``nan_mask``)
contribute zero error and zero gradient; without one a NaN target makes the loss NaN, loudly.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from anemoic.runtime.losses.ensemble import energy_score
from anemoic.runtime.losses.functions import ERRORS, GRID_SCORES, check_shapes, pointwise_error
from anemoic.runtime.registry import pick
from anemoic.runtime.losses.scalers import TermScalers


class WeightedLoss(nn.Module):
    """One loss term: forward(pred, target, *, lead_time_index=None, nan_mask=None) -> scalar."""

    def __init__(self, kind: str, scalers: TermScalers, *, delta: float = 1.0, variable_reduction: str = "sum",
                 alpha: float = 1.0) -> None:
        super().__init__()
        if variable_reduction not in ("sum", "mean"):
            raise ValueError(f"variable_reduction must be 'sum' or 'mean', got {variable_reduction!r}")
        pick(ERRORS, kind, "loss")
        self.kind = kind
        self.scalers = scalers
        self.delta = delta
        self.alpha = alpha
        self.variable_reduction = variable_reduction

    def forward(
        self, pred: Tensor, target: Tensor, *, lead_time_index: int | None = None, nan_mask: Tensor | None = None
    ) -> Tensor:
        return self.per_variable(pred, target, lead_time_index=lead_time_index, nan_mask=nan_mask, finish=True)

    def per_variable(
        self,
        pred: Tensor,
        target: Tensor,
        *,
        lead_time_index: int | None = None,
        nan_mask: Tensor | None = None,
        finish: bool = False,
        grid: slice | None = None,
    ) -> Tensor:
        """The loss split by variable, (V,), before the variable reduction (for RMSE: the MSE parts);
        ``finish`` reduces it to the scalar loss. ``grid``: the grid points ``pred`` holds, when they are a
        shard (the parts of shards add up to the whole grid's, before ``finish``)."""
        check_shapes(pred, target)
        if self.scalers.masks_nans:
            pred, target = _mask_missing(pred, target, nan_mask)
        dtype = torch.promote_types(torch.promote_types(pred.dtype, target.dtype), torch.float32)
        with torch.autocast(device_type=pred.device.type, enabled=False):
            if self.kind in GRID_SCORES:  # not separable over grid points: never given a shard (checked)
                per_variable = self._grid_score(pred.to(dtype), target.to(dtype), lead_time_index)
            else:
                error = pointwise_error(self.kind, pred.to(dtype), target.to(dtype), self.delta, self.alpha)
                weighted = self.scalers.weight(error, lead_time_index, grid)
                per_variable = weighted.sum(dim=2).mean(dim=(0, 1))
            return self.finish(per_variable) if finish else per_variable

    def finish(self, per_variable: Tensor) -> Tensor:
        """The scalar loss of the per-variable parts (``per_variable``)."""
        with torch.autocast(device_type=per_variable.device.type, enabled=False):
            total = per_variable.sum() if self.variable_reduction == "sum" else per_variable.mean()
            return total.sqrt() if self.kind == "rmse" else total

    def _grid_score(self, pred: Tensor, target: Tensor, lead_time_index: int | None) -> Tensor:
        """(V,): the energy score of each variable with the node weights in its norm, then the variable
        and lead-time scalers, averaged over the batch."""
        score = energy_score(pred, target, self.scalers.node).mean(dim=0)
        if self.scalers.variable is not None:
            score = score * self.scalers.variable.to(score.dtype)
        if self.scalers.lead_time is not None:
            score = score * self.scalers.lead_time.factor(lead_time_index)
        return score


def _mask_missing(pred: Tensor, target: Tensor, nan_mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Zero prediction and target where the target is missing, so the error there is 0 with 0 gradient."""
    missing = torch.isnan(target)
    if nan_mask is not None:
        missing = missing | nan_mask.to(torch.bool)
    missing_pred = missing.expand_as(pred) if missing.shape[1] == 1 else missing
    return pred.masked_fill(missing_pred, 0.0), target.masked_fill(missing, 0.0)


class CombinedLoss(nn.Module):
    """Weighted sum of loss terms: forward(...) -> sum_i weight_i * term_i(...).

    ``output_points``: a limited-area model's output mask, the region's points (the first of the grid); the
    loss sees only those, its terms' node weights are the region's."""

    def __init__(self, terms: list[WeightedLoss], weights: list[float], output_points: int | None = None) -> None:
        super().__init__()
        if not terms or len(terms) != len(weights):
            raise ValueError("a combined loss needs at least one term and one weight per term")
        self.terms = nn.ModuleList(terms)
        self.weights = [float(w) for w in weights]
        self.output_points = output_points

    def forward(
        self, pred: Tensor, target: Tensor, *, lead_time_index: int | None = None, nan_mask: Tensor | None = None
    ) -> Tensor:
        if self.output_points is not None:  # (B, E, G, V): nothing of the boundary enters the loss
            region = slice(0, self.output_points)
            pred, target = pred[..., region, :], target[..., region, :]
            nan_mask = nan_mask[..., region, :] if nan_mask is not None and nan_mask.dim() >= 2 else nan_mask
        total = None
        for weight, term in zip(self.weights, self.terms):
            value = weight * term(pred, target, lead_time_index=lead_time_index, nan_mask=nan_mask)
            total = value if total is None else total + value
        return total
