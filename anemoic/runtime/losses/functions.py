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


def kernel_crps(pred: Tensor, target: Tensor, fair: bool = True) -> Tensor:
    """Ensemble CRPS per (batch, grid, variable): pred (B, M, G, V), target (B, 1 or M, G, V) -> (B, 1, G, V).

    CRPS = mean_m |x_m - y| - 1/(2 M k) sum_{m,m'} |x_m - x_m'|, with k = M - 1 (fair: unbiased for
    a finite ensemble) or k = M. Needs M >= 2 for the fair form.
    """
    members = pred.shape[1]
    if fair and members < 2:
        raise ValueError(f"the fair CRPS needs at least 2 ensemble members, got {members}")
    skill = (pred - target[:, :1]).abs().mean(dim=1, keepdim=True)
    spread = (pred.unsqueeze(1) - pred.unsqueeze(2)).abs().sum(dim=(1, 2)).unsqueeze(1)
    return skill - spread / (2.0 * members * (members - 1 if fair else members))


ERRORS: dict[LossKind, Callable[..., Tensor]] = {
    "mse": squared_error,
    "rmse": squared_error,  # the root comes after the reduction
    "mae": absolute_error,
    "huber": huber_error,  # takes the term's delta
    "logcosh": logcosh_error,
    "crps": kernel_crps,
}
"""The point-wise error of each loss kind, ``(pred, target) -> error``."""


def pointwise_error(kind: str, pred: Tensor, target: Tensor, delta: float = 1.0) -> Tensor:
    """The error tensor of loss ``kind`` (``rmse`` gives squared errors: the root comes after reduction)."""
    error = pick(ERRORS, kind, "loss")
    return error(pred, target, delta) if kind == "huber" else error(pred, target)


def check_shapes(pred: Tensor, target: Tensor) -> None:
    if pred.dim() != 4:
        raise ValueError(f"loss inputs must be (batch, ensemble, grid, variable), got pred {tuple(pred.shape)}")
    if target.dim() != 4 or target.shape[0] != pred.shape[0] or target.shape[2:] != pred.shape[2:]:
        raise ValueError(f"target {tuple(target.shape)} does not match pred {tuple(pred.shape)}")
    if target.shape[1] not in (1, pred.shape[1]):
        raise ValueError(f"target has {target.shape[1]} ensemble members, pred {pred.shape[1]}: need 1 or equal")
    _ = torch.broadcast_shapes(pred.shape, target.shape)
