"""Scores of an ensemble against the truth: the kernel CRPS family and the energy score.

Both are proper scores built from the same two expectations, E|X - y| (skill) and E|X - X'| (spread):
  CRPS(F, y) = E|X - y| - 1/2 E|X - X'|            (per grid point and variable)
  ES(F, y)   = E‖X - y‖ - 1/2 E‖X - X'‖            (per variable, ‖·‖ over the grid)
An ensemble x_1..x_M estimates E|X - X'| by (1/M²) Σ_{m,m'} |x_m - x_m'| (the ensemble's own, "kernel"
CRPS: it treats the M members as the distribution) or by 1/(M(M-1)) Σ_{m≠m'} (the "fair" estimator:
unbiased for the distribution the members are drawn from, so a finite ensemble is not pushed to
over-disperse).  ``alpha`` blends them as AIFS-CRPS does (Lang et al. 2024): 1 fair, 0 kernel.
With one member the spread term is 0 and both scores are the absolute error (the CRPS of a point
forecast is its MAE).  docs/models.md "Ensembles" gives the weighting.
"""

from __future__ import annotations

from torch import Tensor


def spread_coefficient(members: int, alpha: float) -> float:
    """The factor of Σ_{m,m'} |x_m - x_m'| in ``alpha`` x fair + (1 - ``alpha``) x kernel CRPS."""
    if members < 2:
        return 0.0  # one member: no pair, the spread term is 0
    return alpha / (2.0 * members * (members - 1)) + (1.0 - alpha) / (2.0 * members * members)


def pairwise_absolute_sum(pred: Tensor, dim: int = 1) -> Tensor:
    """Σ_{m,m'} |x_m - x_m'| along ``dim`` (kept as size 1), in O(M log M) memory-light form: with the members
    sorted, x_(1) <= ... <= x_(M), the sum is 2 Σ_i (2i - M - 1) x_(i)."""
    members = pred.shape[dim]
    ordered = pred.sort(dim=dim).values
    shape = [1] * pred.dim()
    shape[dim] = members
    rank = (2 * pred.new_tensor(range(1, members + 1)) - members - 1).view(shape)
    return 2.0 * (rank * ordered).sum(dim=dim, keepdim=True)


def kernel_crps(pred: Tensor, target: Tensor, alpha: float = 1.0) -> Tensor:
    """pred (B, M, G, V), target (B, 1 or M, G, V) -> (B, 1, G, V): mean_m |x_m - y| - c Σ_{m,m'} |x_m - x_m'|
    with c = ``spread_coefficient(M, alpha)``."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"the CRPS's alpha lies between 0 (kernel) and 1 (fair), got {alpha}")
    skill = (pred - target[:, :1]).abs().mean(dim=1, keepdim=True)
    coefficient = spread_coefficient(pred.shape[1], alpha)
    if coefficient == 0.0:
        return skill
    return skill - coefficient * pairwise_absolute_sum(pred, dim=1)


def _norm(difference: Tensor, node_weights: Tensor | None, grid_dim: int) -> Tensor:
    """sqrt(Σ_g w_g d_g²) over ``grid_dim``; the square root is floored so identical fields have zero gradient
    instead of NaN (``sqrt`` is not differentiable at 0)."""
    squared = difference.square()
    if node_weights is not None:
        shape = [1] * squared.dim()
        shape[grid_dim] = -1
        squared = squared * node_weights.to(squared.dtype).view(shape)
    return squared.sum(dim=grid_dim).clamp_min(1e-30).sqrt()


def energy_score(pred: Tensor, target: Tensor, node_weights: Tensor | None = None) -> Tensor:
    """pred (B, M, G, V), target (B, 1 or M, G, V) -> (B, V): the fair energy score of each variable's field,
    (1/M) Σ_m ‖x_m - y‖ - 1/(2M(M-1)) Σ_{m≠m'} ‖x_m - x_m'‖, with ‖d‖² = Σ_g w_g d_g² (w = ``node_weights``,
    (G,), or 1)."""
    members = pred.shape[1]
    skill = _norm(pred - target[:, :1], node_weights, grid_dim=2).mean(dim=1)  # (B, V)
    if members < 2:
        return skill
    pairs = pred.unsqueeze(1) - pred.unsqueeze(2)  # (B, M, M, G, V)
    distances = _norm(pairs, node_weights, grid_dim=3)  # (B, M, M, V); the diagonal is ~0 (floored)
    off_diagonal = distances.sum(dim=(1, 2)) - distances.diagonal(dim1=1, dim2=2).sum(dim=-1)
    return skill - off_diagonal / (2.0 * members * (members - 1))
