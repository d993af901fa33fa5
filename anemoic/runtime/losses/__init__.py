"""Losses (MSE, RMSE, MAE, Huber, LogCosh, CRPS, combined), scalers and validation metrics.

``build_loss(plan, graph)`` and ``build_metrics(plan, graph)`` are the entry points; the loss
formula is in docs/models.md.
"""

from anemoic.runtime.losses.builder import build_loss
from anemoic.runtime.losses.metrics import ValidationMetrics, acc, bias, build_metrics, rmse
from anemoic.runtime.losses.weighted import CombinedLoss, WeightedLoss

__all__ = ["CombinedLoss", "ValidationMetrics", "WeightedLoss", "acc", "bias", "build_loss", "build_metrics", "rmse"]
