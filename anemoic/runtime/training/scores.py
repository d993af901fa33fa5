"""Area-weighted error sums per (lead time, variable) for a forecast and its baselines, per metric.

Sums, not means, so they add up across batches and data-parallel ranks (one all-reduce each at
the end); NaN targets (missing data) carry no weight.  A metric is a point-wise function of the
error ``forecast - target``, averaged with the node weights, then finished (RMSE: the root).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from anemoic.plan.kinds import MetricKind

KINDS = ("model", "persistence", "climatology")


class Metric(NamedTuple):
    pointwise: Callable[[torch.Tensor], torch.Tensor]  # of the error, before the weighted mean
    finish: Callable[[torch.Tensor], torch.Tensor]  # of the weighted mean


METRICS: dict[MetricKind, Metric] = {
    "rmse": Metric(torch.square, torch.sqrt),
    "mae": Metric(torch.abs, lambda mean: mean),
    "bias": Metric(lambda error: error, lambda mean: mean),
}


@dataclass
class ScoreSums:
    leads: int
    variables: int
    metrics: tuple[MetricKind, ...] = ("rmse",)
    weighted: dict[tuple[str, MetricKind], torch.Tensor] = field(default_factory=dict)  # (kind, metric) -> (R, V)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    samples: int = 0

    def add(self, kind: str, forecast: torch.Tensor, target: torch.Tensor, node_weights: torch.Tensor,
            count_samples: bool = True) -> None:
        """``forecast``/``target`` ``(B, R, E, G, V)`` in physical units; ``node_weights`` ``(G,)``.
        ``count_samples``: False on the ranks of a model group that score other grid points of the samples
        one rank of the group counts."""
        valid = ~torch.isnan(target) & ~torch.isnan(forecast)
        w = node_weights.to(target.dtype).view(1, 1, 1, -1, 1) * valid
        error = torch.where(valid, forecast - target, torch.zeros_like(target))
        for metric in self.metrics:
            sums = (w * METRICS[metric].pointwise(error)).sum(dim=(0, 2, 3)).double().cpu()
            self.weighted[kind, metric] = self.weighted.get((kind, metric), 0) + sums
        self.weights[kind] = self.weights.get(kind, 0) + w.sum(dim=(0, 2, 3)).double().cpu()
        if kind == "model" and count_samples:
            self.samples += int(target.shape[0])

    def reduce(self, all_reduce_sum: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Sum over data-parallel ranks (pass ``lambda t: strategy.reduce(t, reduce_op="sum")``)."""
        for key in list(self.weighted):
            self.weighted[key] = all_reduce_sum(self.weighted[key])
        for kind in list(self.weights):
            self.weights[kind] = all_reduce_sum(self.weights[kind])
        self.samples = int(all_reduce_sum(torch.tensor(float(self.samples), dtype=torch.float64)).item())

    def score(self, kind: str, metric: MetricKind) -> torch.Tensor:
        """``(R, V)`` ``metric`` of forecast ``kind``; NaN where no valid point was seen."""
        weights = self.weights[kind]
        mean = self.weighted[kind, metric] / weights.clamp_min(1e-300)
        return torch.where(weights > 0, METRICS[metric].finish(mean), torch.full_like(weights, float("nan")))

    def rmse(self, kind: str) -> torch.Tensor:
        return self.score(kind, "rmse")

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k in self.weights)
