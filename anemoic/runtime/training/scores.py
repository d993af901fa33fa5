"""Area-weighted score sums per (lead time, variable) for a forecast and its baselines, per metric.

Sums, not means, so they add up across batches and data-parallel ranks (one all-reduce each at
the end); NaN targets (missing data) carry no weight.  A forecast is ``(B, R, E, G, V)``: E members
(1 for a deterministic model or a baseline), the target ``(B, R, 1, G, V)``.  Each metric is a
function of weighted means of statistics of the members and the target:

  error, squared_error, absolute_error   of the ensemble mean (the state itself for one member)
  crps        the fair kernel CRPS of the members (the absolute error for one member)
  variance    the members' unbiased variance (0 for one member)
  rank        one-hot of the truth's rank among the members: how many lie below it (0..E)

``spread_skill`` is sqrt((E + 1) / E) x spread / ensemble-mean RMSE, which is 1 for a reliable
ensemble of E members (Fortin et al. 2014).  docs/models.md "Validation metrics" has the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch

from anemoic.plan.kinds import MetricKind
from anemoic.runtime.losses.ensemble import kernel_crps

KINDS = ("model", "persistence", "linear", "bilinear", "climatology")  # linear: interpolation in time (a temporal
# downscaler's baseline), bilinear: in space (a spatial downscaler's)
Statistic = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _mean_error(forecast: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return forecast.mean(dim=2, keepdim=True) - target


def _crps(forecast: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    folded = forecast.flatten(0, 1)  # (B R, E, G, V): the members on dim 1, as the loss has them
    return kernel_crps(folded, target.flatten(0, 1), alpha=1.0).view_as(target)


def _variance(forecast: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if forecast.shape[2] < 2:
        return torch.zeros_like(target)
    return forecast.var(dim=2, keepdim=True, correction=1)


def _rank(forecast: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, R, 1, G, V, E + 1): one-hot of the number of members below the truth (ties count as above)."""
    below = (forecast < target).sum(dim=2, keepdim=True)
    return torch.nn.functional.one_hot(below, forecast.shape[2] + 1).to(target.dtype)


STATISTICS: dict[str, Statistic] = {
    "error": _mean_error,
    "squared_error": lambda forecast, target: _mean_error(forecast, target).square(),
    "absolute_error": lambda forecast, target: _mean_error(forecast, target).abs(),
    "crps": _crps,
    "variance": _variance,
    "rank": _rank,
}


class Metric(NamedTuple):
    statistics: tuple[str, ...]  # the weighted means it is computed from
    finish: Callable[[dict[str, torch.Tensor], int], torch.Tensor]  # (means, members) -> score


def _spread_skill(means: dict[str, torch.Tensor], members: int) -> torch.Tensor:
    factor = math.sqrt((members + 1) / members)
    return factor * means["variance"].sqrt() / means["squared_error"].sqrt()


METRICS: dict[MetricKind, Metric] = {
    "rmse": Metric(("squared_error",), lambda m, _: m["squared_error"].sqrt()),
    "mae": Metric(("absolute_error",), lambda m, _: m["absolute_error"]),
    "bias": Metric(("error",), lambda m, _: m["error"]),
    "crps": Metric(("crps",), lambda m, _: m["crps"]),
    "spread": Metric(("variance",), lambda m, _: m["variance"].sqrt()),
    "spread_skill": Metric(("variance", "squared_error"), _spread_skill),
    "rank_histogram": Metric(("rank",), lambda m, _: m["rank"]),  # (R, V, E + 1): the weighted share per rank
}


@dataclass
class ScoreSums:
    leads: int
    variables: int
    metrics: tuple[MetricKind, ...] = ("rmse",)
    weighted: dict[tuple[str, str], torch.Tensor] = field(default_factory=dict)  # (kind, statistic) -> (R, V[, K])
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    def statistics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for metric in self.metrics for s in METRICS[metric].statistics))

    def add(self, kind: str, forecast: torch.Tensor, target: torch.Tensor, node_weights: torch.Tensor,
            count_samples: bool = True) -> None:
        """``forecast`` ``(B, R, E, G, V)`` and ``target`` ``(B, R, 1 or E, G, V)`` in physical units;
        ``node_weights`` ``(G,)``.  A point where the target or any member is NaN is not scored.
        ``count_samples``: False on the ranks of a model group that score other grid points of the samples
        one rank of the group counts."""
        target = target[:, :, :1]
        valid = ~torch.isnan(target) & ~torch.isnan(forecast).any(dim=2, keepdim=True)
        w = node_weights.to(target.dtype).view(1, 1, 1, -1, 1) * valid
        forecast, target = torch.where(valid, forecast, 0.0), torch.where(valid, target, 0.0)
        for name in self.statistics():
            value = STATISTICS[name](forecast, target)
            weight = w.view(*w.shape, *([1] * (value.dim() - w.dim())))
            sums = (weight * value).sum(dim=(0, 2, 3)).double().cpu()
            self.weighted[kind, name] = self.weighted.get((kind, name), 0) + sums
        self.weights[kind] = self.weights.get(kind, 0) + w.sum(dim=(0, 2, 3)).double().cpu()
        self.members[kind] = int(forecast.shape[2])
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
        """``(R, V)`` ``metric`` of forecast ``kind`` (``(R, V, E + 1)`` for the rank histogram); NaN where no
        valid point was seen."""
        weights = self.weights[kind]
        means = {}
        for name in METRICS[metric].statistics:
            total = self.weighted[kind, name]
            expanded = weights.view(*weights.shape, *([1] * (total.dim() - weights.dim())))
            means[name] = total / expanded.clamp_min(1e-300)
        value = METRICS[metric].finish(means, self.members[kind])
        seen = (weights > 0).view(*weights.shape, *([1] * (value.dim() - weights.dim())))
        return torch.where(seen, value, torch.full_like(value, float("nan")))

    def rmse(self, kind: str) -> torch.Tensor:
        return self.score(kind, "rmse")

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k in self.weights)
