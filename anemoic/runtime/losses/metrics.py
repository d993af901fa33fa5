"""Validation metrics per variable and lead time, in physical units (denormalised tensors).

All metrics weight grid points by the node weights (area) and skip missing targets (NaN):
  rmse  = sqrt(wmean((p - t)^2))
  bias  = wmean(p - t)                                  (positive: the model is too high)
  acc   = wcov(p - c, t - c) / sqrt(wvar(p - c) wvar(t - c))   (centred anomaly correlation)
where wmean is the weighted mean over batch, ensemble and grid, c the climatology. An ensemble
prediction scored against a single target is scored through its ensemble mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from anemoic.runtime.losses.functions import check_shapes

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from anemoic.plan.model import Plan

METRICS = ("rmse", "bias", "acc")


def weighted_mean(x: Tensor, weights: Tensor, valid: Tensor | None = None) -> Tensor:
    """(B, E, G, V) -> (V,): mean over batch, ensemble and grid with grid weights, skipping invalid points."""
    w = weights.to(x.dtype).view(1, 1, -1, 1).expand_as(x)
    if valid is not None:
        w = w * valid.to(x.dtype)
        x = torch.where(valid, x, torch.zeros_like(x))
    return (w * x).sum(dim=(0, 1, 2)) / w.sum(dim=(0, 1, 2))


def _prepare(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    check_shapes(pred, target)
    if pred.shape[1] > 1 and target.shape[1] == 1:
        pred = pred.mean(dim=1, keepdim=True)
    target = target.expand_as(pred)
    valid = ~torch.isnan(target)
    return pred, target, valid


def rmse(pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    pred, target, valid = _prepare(pred, target)
    return weighted_mean((pred - target).square(), weights, valid).sqrt()


def bias(pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    pred, target, valid = _prepare(pred, target)
    return weighted_mean(pred - target, weights, valid)


def acc(pred: Tensor, target: Tensor, climatology: Tensor, weights: Tensor) -> Tensor:
    """Centred anomaly correlation; ``climatology`` broadcasts to (B, E, G, V) (e.g. (G, V) or (V,))."""
    pred, target, valid = _prepare(pred, target)
    forecast_anomaly = pred - climatology
    observed_anomaly = target - climatology
    fa = forecast_anomaly - weighted_mean(forecast_anomaly, weights, valid)
    oa = observed_anomaly - weighted_mean(observed_anomaly, weights, valid)
    covariance = weighted_mean(fa * oa, weights, valid)
    variance = weighted_mean(fa.square(), weights, valid) * weighted_mean(oa.square(), weights, valid)
    return covariance / variance.sqrt()


class ValidationMetrics:
    """The plan's metrics (``plan.loss.metrics``) for every output variable at a given lead time."""

    def __init__(self, metrics: tuple[str, ...], variables: tuple[str, ...], node_weights: Tensor,
                 timestep_s: int) -> None:
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown validation metric {unknown[0]!r}; choose from {', '.join(METRICS)}")
        self.metrics = metrics
        self.variables = variables
        self.node_weights = node_weights
        self.timestep_s = timestep_s

    def lead_label(self, lead_step: int) -> str:
        """'+6h' for the first 6-hourly step (minutes when the lead time is not whole hours)."""
        seconds = lead_step * self.timestep_s
        return f"+{seconds // 3600}h" if seconds % 3600 == 0 else f"+{seconds // 60}min"

    @torch.no_grad()
    def compute(self, pred: Tensor, target: Tensor, *, lead_step: int, climatology: Tensor | None = None
                ) -> dict[str, Tensor]:
        """{"rmse/z_500/+6h": 0-d tensor, ...} for pred, target (B, E, G, V_out) in physical units.

        ``lead_step`` counts model steps ahead from 1. ACC needs ``climatology`` and is left out without it.
        """
        weights = self.node_weights.to(pred.device)
        values: dict[str, Tensor] = {}
        if "rmse" in self.metrics:
            values["rmse"] = rmse(pred, target, weights)
        if "bias" in self.metrics:
            values["bias"] = bias(pred, target, weights)
        if "acc" in self.metrics and climatology is not None:
            values["acc"] = acc(pred, target, climatology.to(pred.device, pred.dtype), weights)
        label = self.lead_label(lead_step)
        return {f"{name}/{var}/{label}": per_var[i] for name, per_var in values.items()
                for i, var in enumerate(self.variables)}


def build_metrics(plan: Plan, graph: HeteroData) -> ValidationMetrics:
    """Metrics over ``plan.indices.output`` weighted by the graph's data-node area weights."""
    weights = graph["data"].area_weight.to(torch.float64)
    return ValidationMetrics(plan.loss.metrics, plan.indices.output, weights, plan.task.timestep_s)
