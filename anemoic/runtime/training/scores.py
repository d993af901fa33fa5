"""Area-weighted squared-error sums per (lead time, variable) for a forecast and its baselines.

Sums, not means, so they add up across batches and data-parallel ranks (one
all-reduce at the end); NaN targets (missing data) carry no weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

KINDS = ("model", "persistence", "climatology")


@dataclass
class ScoreSums:
    leads: int
    variables: int
    weighted_squares: dict[str, torch.Tensor] = field(default_factory=dict)
    weights: dict[str, torch.Tensor] = field(default_factory=dict)
    samples: int = 0

    def add(self, kind: str, forecast: torch.Tensor, target: torch.Tensor, node_weights: torch.Tensor) -> None:
        """``forecast``/``target`` ``(B, R, E, G, V)`` in physical units; ``node_weights`` ``(G,)``."""
        valid = ~torch.isnan(target) & ~torch.isnan(forecast)
        w = node_weights.to(target.dtype).view(1, 1, 1, -1, 1) * valid
        error = torch.where(valid, forecast - target, torch.zeros_like(target))
        squares = (w * error.square()).sum(dim=(0, 2, 3)).double().cpu()
        total = w.sum(dim=(0, 2, 3)).double().cpu()
        self.weighted_squares[kind] = self.weighted_squares.get(kind, 0) + squares
        self.weights[kind] = self.weights.get(kind, 0) + total
        if kind == "model":
            self.samples += int(target.shape[0])

    def reduce(self, all_reduce_sum: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """Sum over data-parallel ranks (pass ``lambda t: strategy.reduce(t, reduce_op="sum")``)."""
        for kind in list(self.weighted_squares):
            self.weighted_squares[kind] = all_reduce_sum(self.weighted_squares[kind])
            self.weights[kind] = all_reduce_sum(self.weights[kind])
        self.samples = int(all_reduce_sum(torch.tensor(float(self.samples), dtype=torch.float64)).item())

    def rmse(self, kind: str) -> torch.Tensor:
        """``(R, V)`` root mean squared error; NaN where no valid point was seen."""
        weights = self.weights[kind]
        return torch.where(weights > 0, (self.weighted_squares[kind] / weights.clamp_min(1e-300)).sqrt(),
                           torch.full_like(weights, float("nan")))

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if k in self.weighted_squares)
