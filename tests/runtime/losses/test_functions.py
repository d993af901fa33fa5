"""Point-wise errors and CRPS: hand-computed values and gradients, plus float64 gradcheck."""

from __future__ import annotations

import math

import pytest
import torch

from anemoic.runtime.losses.functions import kernel_crps, pointwise_error

D = torch.tensor([-2.0, -0.5, 0.0, 1.5], dtype=torch.float64)  # pred - target

# (kind, value of each element, derivative w.r.t. pred), derived by hand from the definitions
HAND = {
    "mse": ([4.0, 0.25, 0.0, 2.25], [-4.0, -1.0, 0.0, 3.0]),
    "mae": ([2.0, 0.5, 0.0, 1.5], [-1.0, -1.0, 0.0, 1.0]),
    "huber": ([1.5, 0.125, 0.0, 1.0], [-1.0, -0.5, 0.0, 1.0]),  # delta = 1
    "logcosh": ([math.log(math.cosh(d)) for d in D.tolist()], [math.tanh(d) for d in D.tolist()]),
}


def _as_bgev(t):
    return t.view(1, 1, -1, 1)


@pytest.mark.parametrize("kind", sorted(HAND))
def test_pointwise_values_and_gradients_match_hand_derivation(kind):
    target = _as_bgev(torch.tensor([1.0, -1.0, 3.0, 0.5], dtype=torch.float64))
    pred = (target + _as_bgev(D)).requires_grad_()
    value = pointwise_error(kind, pred, target)
    expected_value, expected_grad = HAND[kind]
    torch.testing.assert_close(value.flatten(), torch.tensor(expected_value, dtype=torch.float64))
    value.sum().backward()
    torch.testing.assert_close(pred.grad.flatten(), torch.tensor(expected_grad, dtype=torch.float64))


def test_huber_delta_moves_the_quadratic_region():
    pred, target = _as_bgev(torch.tensor([3.0], dtype=torch.float64)), _as_bgev(torch.zeros(1, dtype=torch.float64))
    assert pointwise_error("huber", pred, target, delta=2.0).item() == pytest.approx(2.0 * (3.0 - 1.0))
    assert pointwise_error("huber", pred, target, delta=4.0).item() == pytest.approx(4.5)


def test_logcosh_does_not_overflow_for_large_errors():
    value = pointwise_error("logcosh", _as_bgev(torch.tensor([1000.0])), _as_bgev(torch.zeros(1)))
    assert value.item() == pytest.approx(1000.0 - math.log(2.0))


@pytest.mark.parametrize("kind", ["mse", "mae", "huber", "logcosh"])
def test_pointwise_gradcheck(kind):
    pred = torch.tensor([0.3, -1.7, 2.2, 0.9], dtype=torch.float64).view(1, 1, 2, 2).requires_grad_()
    target = torch.tensor([0.1, 0.4, -0.6, 0.2], dtype=torch.float64).view(1, 1, 2, 2)
    assert torch.autograd.gradcheck(lambda p: pointwise_error(kind, p, target), (pred,))


def test_crps_hand_values():
    pred = torch.tensor([[0.0, 2.0], [0.0, 0.0]], dtype=torch.float64).T.reshape(1, 2, 2, 1)  # 2 members, 2 points
    target = torch.tensor([1.0, 1.0], dtype=torch.float64).view(1, 1, 2, 1)
    # point 0: members {0, 2}, obs 1: skill 1, spread sum 4 -> fair 1 - 4/(2*2*1) = 0, almost-fair 1 - 4/8 = 0.5
    # point 1: members {0, 0}: skill 1, spread 0 -> 1 either way
    torch.testing.assert_close(kernel_crps(pred, target).flatten(), torch.tensor([0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(kernel_crps(pred, target, fair=False).flatten(),
                               torch.tensor([0.5, 1.0], dtype=torch.float64))


def test_crps_gradient_hand_value_and_gradcheck():
    # fair CRPS with M = 2: skill - |x0 - x1| / 2, so d/dx_m = sign(x_m - y) / 2 - sign(x_m - x_other) / 2
    # point 0, members {0, 3}, obs 1: x0: -1/2 + 1/2 = 0; x1: 1/2 - 1/2 = 0
    # point 1, members {0.5, 0.7}, obs 2: x0: -1/2 + 1/2 = 0; x1: -1/2 - 1/2 = -1   (grad laid out [member, point])
    pred = torch.tensor([[0.0, 3.0], [0.5, 0.7]], dtype=torch.float64).T.reshape(1, 2, 2, 1).requires_grad_()
    target = torch.tensor([1.0, 2.0], dtype=torch.float64).view(1, 1, 2, 1)
    kernel_crps(pred, target).sum().backward()
    torch.testing.assert_close(pred.grad.reshape(2, 2), torch.tensor([[0.0, 0.0], [0.0, -1.0]], dtype=torch.float64))
    fresh = pred.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda p: kernel_crps(p, target), (fresh,))


def test_fair_crps_needs_two_members():
    with pytest.raises(ValueError, match="at least 2 ensemble members"):
        kernel_crps(torch.zeros(1, 1, 2, 1), torch.zeros(1, 1, 2, 1))
