"""Losses (MSE, RMSE, MAE, Huber, LogCosh, CRPS, combined) and their scalers; ``build_loss(plan, graph)`` is
the entry point and docs/models.md has the formula."""

from anemoic.runtime.losses.builder import build_loss
from anemoic.runtime.losses.weighted import CombinedLoss, WeightedLoss

__all__ = ["CombinedLoss", "WeightedLoss", "build_loss"]
