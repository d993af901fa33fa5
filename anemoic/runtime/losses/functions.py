"""Point-wise error functions: one value per (batch, ensemble, grid, variable) before any weighting.

Kept free of reductions so that every loss shares one weighting and reduction rule
(:mod:`anemoic.runtime.losses.weighted`); RMSE is MSE with a square root after reduction,
CRPS reduces the ensemble dimension itself because it compares members with each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from anemoic.plan.kinds import LossKind
from anemoic.runtime.losses.ensemble import energy_score, kernel_crps
from anemoic.runtime.registry import pick


def squared_error(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).square()


def absolute_error(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).abs()


def huber_error(pred: Tensor, target: Tensor, delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta): quadratic near zero, linear in the tails."""
    return F.huber_loss(pred, target, reduction="none", delta=delta)


def logcosh_error(pred: Tensor, target: Tensor) -> Tensor:
    """log(cosh(d)) computed as |d| + softplus(-2|d|) - log 2, which never overflows."""
    d = (pred - target).abs()
    return d + F.softplus(-2.0 * d) - math.log(2.0)


ERRORS: dict[LossKind, Callable[..., Tensor]] = {
    "mse": squared_error,
    "rmse": squared_error,  # the root comes after the reduction
    "mae": absolute_error,
    "huber": huber_error,  # takes the term's delta
    "logcosh": logcosh_error,
    "crps": kernel_crps,  # takes the term's alpha; (B, 1, G, V)
    "energy_score": energy_score,  # takes the node weights; (B, V): reduced over the grid by its norm
}
"""The error of each loss kind, ``(pred, target) -> error``: point-wise but for the two ensemble scores."""
GRID_SCORES = ("energy_score",)
"""Kinds whose error is already reduced over the grid (the node weights enter inside it)."""


def pointwise_error(kind: str, pred: Tensor, target: Tensor, delta: float = 1.0, alpha: float = 1.0) -> Tensor:
    """The error tensor of loss ``kind`` (``rmse`` gives squared errors: the root comes after reduction)."""
    error = pick(ERRORS, kind, "loss")
    if kind == "huber":
        return error(pred, target, delta)
    if kind == "crps":
        return error(pred, target, alpha)
    return error(pred, target)


def check_shapes(pred: Tensor, target: Tensor) -> None:
    if pred.dim() != 4:
        raise ValueError(f"loss inputs must be (batch, ensemble, grid, variable), got pred {tuple(pred.shape)}")
    if target.dim() != 4 or target.shape[0] != pred.shape[0] or target.shape[2:] != pred.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not match pred {tuple(pred.shape)}")
    if target.shape[1] not in (1, pred.shape[1]):
        raise ValueError(f"target has {target.shape[1]} ensemble members, pred {pred.shape[1]}: need 1 or equal")
    _ = torch.broadcast_shapes(pred.shape, target.shape)
