"""Point-wise errors: hand-computed values and gradients, plus float64 gradcheck (the ensemble scores:
``test_ensemble.py``)."""

from __future__ import annotations

import math

import pytest
import torch

from anemoic.runtime.losses.functions import pointwise_error

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
