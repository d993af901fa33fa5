"""The ensemble scores against closed forms: the Gaussian CRPS for a large ensemble, the fair estimator's
unbiasedness for small ones, hand-computed cases, alpha between fair and kernel, the energy score, gradcheck."""

from __future__ import annotations

import math

import pytest
import torch

from anemoic.runtime.losses.ensemble import energy_score, kernel_crps, pairwise_absolute_sum, spread_coefficient


def gaussian_crps(mu: float, sigma: float, y: float) -> float:
    """CRPS(N(mu, sigma^2), y) = sigma [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mu) / sigma."""
    z = (y - mu) / sigma
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    return sigma * (z * (2 * cdf - 1) + 2 * phi - 1 / math.sqrt(math.pi))


def members(values: list[list[float]]) -> torch.Tensor:
    """(1, M, G, 1) from ``values[m][g]``."""
    return torch.tensor(values, dtype=torch.float64).unsqueeze(0).unsqueeze(-1)


def truth(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).view(1, 1, -1, 1)


@pytest.mark.parametrize("alpha", [0.0, 0.95, 1.0])
@pytest.mark.parametrize("y", [0.0, 0.7, -2.5])
def test_a_large_gaussian_ensemble_scores_the_closed_form(alpha: float, y: float) -> None:
    generator = torch.Generator().manual_seed(3)
    sample = 1.5 + 2.0 * torch.randn(1, 200_000, 1, 1, generator=generator, dtype=torch.float64)
    crps = kernel_crps(sample, truth([y]), alpha).item()
    assert crps == pytest.approx(gaussian_crps(1.5, 2.0, y), rel=5e-3)


def test_the_fair_crps_of_small_ensembles_is_unbiased_and_the_kernel_crps_is_not() -> None:
    generator = torch.Generator().manual_seed(0)
    size, count = 3, 100_000  # 100,000 ensembles of 3 members from N(0, 1), truth 0.4
    sample = torch.randn(count, size, 1, 1, generator=generator, dtype=torch.float64)
    target = torch.full((count, 1, 1, 1), 0.4, dtype=torch.float64)
    exact = gaussian_crps(0.0, 1.0, 0.4)
    fair, kernel = kernel_crps(sample, target, 1.0).mean().item(), kernel_crps(sample, target, 0.0).mean().item()
    assert fair == pytest.approx(exact, abs=4e-3)
    # E|X - X'| = 2/sqrt(pi); the kernel form counts the M zero diagonal pairs: bias (1/2)(1/M) E|X - X'|
    assert kernel - exact == pytest.approx(1 / (size * math.sqrt(math.pi)), abs=4e-3)


def test_hand_computed_fair_and_kernel_crps_of_three_members() -> None:
    # members {0, 1, 3}, truth 2: skill (2 + 1 + 1) / 3 = 4/3; sum over ordered pairs of |x - x'| = 2 (1 + 3 + 2) = 12
    pred, target = members([[0.0], [1.0], [3.0]]), truth([2.0])
    assert kernel_crps(pred, target, 1.0).item() == pytest.approx(4 / 3 - 12 / (2 * 3 * 2))  # 1/3
    assert kernel_crps(pred, target, 0.0).item() == pytest.approx(4 / 3 - 12 / (2 * 9))  # 2/3
    assert pairwise_absolute_sum(pred).item() == pytest.approx(12.0)


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.95, 1.0])
def test_alpha_interpolates_linearly_between_kernel_and_fair(alpha: float) -> None:
    pred = torch.randn(2, 5, 7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    target = torch.randn(2, 1, 7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    blend = alpha * kernel_crps(pred, target, 1.0) + (1 - alpha) * kernel_crps(pred, target, 0.0)
    torch.testing.assert_close(kernel_crps(pred, target, alpha), blend)
    assert spread_coefficient(5, alpha) == pytest.approx(alpha / 40 + (1 - alpha) / 50)


def test_one_member_scores_its_absolute_error() -> None:
    pred, target = members([[0.5, -1.0]]), truth([2.0, -1.5])
    for alpha in (0.0, 1.0):
        torch.testing.assert_close(kernel_crps(pred, target, alpha).flatten(),
                                   torch.tensor([1.5, 0.5], dtype=torch.float64))
    torch.testing.assert_close(energy_score(pred, target).flatten(), torch.tensor([math.sqrt(1.5**2 + 0.5**2)],
                                                                                  dtype=torch.float64))


def test_alpha_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="between 0"):
        kernel_crps(members([[0.0], [1.0]]), truth([0.0]), 1.5)


def test_hand_computed_energy_score_of_two_members_on_two_points() -> None:
    # members a = (0, 0), b = (3, 4); truth (0, 4); node weights (0.25, 0.75)
    # |a - y| = sqrt(0.75 * 16) = sqrt(12); |b - y| = sqrt(0.25 * 9) = 1.5; |a - b| = sqrt(0.25 * 9 + 0.75 * 16)
    pred, target = members([[0.0, 0.0], [3.0, 4.0]]), truth([0.0, 4.0])
    weights = torch.tensor([0.25, 0.75], dtype=torch.float64)
    expected = (math.sqrt(12) + 1.5) / 2 - 2 * math.sqrt(2.25 + 12) / (2 * 2 * 1)
    assert energy_score(pred, target, weights).item() == pytest.approx(expected)
    unweighted = (4 + 3) / 2 - 2 * 5 / 4
    assert energy_score(pred, target).item() == pytest.approx(unweighted)


def test_on_one_grid_point_the_energy_score_is_the_fair_crps() -> None:
    pred = torch.randn(3, 6, 1, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    target = torch.randn(3, 1, 1, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    torch.testing.assert_close(energy_score(pred, target), kernel_crps(pred, target, 1.0)[:, 0, 0])


def test_the_energy_score_prefers_the_true_dependence_over_the_grid() -> None:
    # the truth is one N(0, 1) value on both grid points; 8-member ensembles with that dependence score lower
    # than ensembles with the right marginals but independent points (the CRPS cannot tell them apart)
    generator = torch.Generator().manual_seed(7)
    count, size = 20_000, 8
    truths = torch.randn(count, 1, 1, 1, generator=generator, dtype=torch.float64).expand(-1, -1, 2, -1)
    dependent = torch.randn(count, size, 1, 1, generator=generator, dtype=torch.float64).expand(-1, -1, 2, -1)
    independent = torch.randn(count, size, 2, 1, generator=generator, dtype=torch.float64)
    assert energy_score(dependent, truths).mean() < 0.97 * energy_score(independent, truths).mean()
    crps = (kernel_crps(dependent, truths).mean() / kernel_crps(independent, truths).mean()).item()
    assert crps == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_crps_gradcheck(alpha: float) -> None:
    pred = torch.tensor([[0.3, -1.7], [2.2, 0.9], [-0.4, 1.1]], dtype=torch.float64).unsqueeze(0).unsqueeze(-1)
    target = truth([0.1, 0.4])
    assert torch.autograd.gradcheck(lambda p: kernel_crps(p, target, alpha), (pred.requires_grad_(),))


def test_energy_score_gradcheck() -> None:
    pred = torch.tensor([[0.3, -1.7, 0.5], [2.2, 0.9, -0.2], [-0.4, 1.1, 0.8]],
                        dtype=torch.float64).unsqueeze(0).unsqueeze(-1)
    weights = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    target = truth([0.1, 0.4, -0.3])
    assert torch.autograd.gradcheck(lambda p: energy_score(p, target, weights), (pred.requires_grad_(),))


def test_hand_computed_crps_gradient() -> None:
    # fair CRPS with M = 2: skill - |x0 - x1| / 2, so d/dx_m = sign(x_m - y) / 2 - sign(x_m - x_other) / 2
    # point 0, members {0, 3}, obs 1: x0: -1/2 + 1/2 = 0; x1: 1/2 - 1/2 = 0
    # point 1, members {0.5, 0.7}, obs 2: x0: -1/2 + 1/2 = 0; x1: -1/2 - 1/2 = -1
    pred = members([[0.0, 0.5], [3.0, 0.7]]).requires_grad_()
    kernel_crps(pred, truth([1.0, 2.0]), 1.0).sum().backward()
    torch.testing.assert_close(pred.grad.reshape(2, 2), torch.tensor([[0.0, 0.0], [0.0, -1.0]], dtype=torch.float64))
