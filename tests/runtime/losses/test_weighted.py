"""The loss formula with each scaler: hand-computed values and gradients, float64 gradcheck."""

from __future__ import annotations

import itertools

import pytest
import torch

from anemoic.runtime.losses.scalers import LeadTimeDecay, TermScalers
from anemoic.runtime.losses.weighted import CombinedLoss, WeightedLoss

B, E, G, V = 2, 1, 3, 2
NODE = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
VAR = torch.tensor([2.0, 1.0], dtype=torch.float64)


def _data():
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(B, E, G, V, generator=g, dtype=torch.float64)
    target = torch.randn(B, E, G, V, generator=g, dtype=torch.float64)
    return pred, target


def _loss(kind="mse", *, variable=VAR, node=NODE, decay=None, nans=False, **kw):
    scalers = TermScalers(variable, node, LeadTimeDecay(decay) if decay else None, nans)
    return WeightedLoss(kind, scalers, **kw).double()


def _hand_mse(pred, target, weight=lambda b, g, v: 1.0):
    """L = mean over batch of sum_g w_g sum_v s_v (p - t)^2, written out as loops."""
    total = 0.0
    for b, e, g, v in itertools.product(range(B), range(E), range(G), range(V)):
        d = float(pred[b, e, g, v] - target[b, e, g, v])
        total += weight(b, g, v) * float(NODE[g]) * float(VAR[v]) * d * d
    return total / (B * E)


def test_mse_value_and_gradient_match_the_formula():
    pred, target = _data()
    pred.requires_grad_()
    loss = _loss()(pred, target)
    assert loss.item() == pytest.approx(_hand_mse(pred.detach(), target))
    loss.backward()
    # dL/dp[b,e,g,v] = w_g s_v 2 (p - t) / (B E)
    expected = NODE.view(1, 1, G, 1) * VAR * 2 * (pred.detach() - target) / (B * E)
    torch.testing.assert_close(pred.grad, expected)


def test_variable_reduction_mean_divides_by_the_number_of_variables():
    pred, target = _data()
    assert _loss(variable_reduction="mean")(pred, target).item() == pytest.approx(_hand_mse(pred, target) / V)


def test_rmse_is_the_root_of_mse_with_matching_gradient():
    pred, target = _data()
    pred.requires_grad_()
    rmse = _loss("rmse")(pred, target)
    mse = _hand_mse(pred.detach(), target)
    assert rmse.item() == pytest.approx(mse ** 0.5)
    rmse.backward()
    expected = NODE.view(1, 1, G, 1) * VAR * 2 * (pred.detach() - target) / (B * E) / (2 * mse ** 0.5)
    torch.testing.assert_close(pred.grad, expected)


def test_lead_time_decay_scales_value_and_gradient_by_decay_to_the_step():
    pred, target = _data()
    pred.requires_grad_()
    loss = _loss(decay=0.5)
    value = loss(pred, target, lead_time_index=2)
    assert value.item() == pytest.approx(0.25 * _hand_mse(pred.detach(), target))
    value.backward()
    expected = 0.25 * NODE.view(1, 1, G, 1) * VAR * 2 * (pred.detach() - target) / (B * E)
    torch.testing.assert_close(pred.grad, expected)
    assert loss(pred, target).item() == pytest.approx(_hand_mse(pred.detach(), target))


def test_nan_mask_drops_missing_targets_from_value_and_gradient():
    pred, target = _data()
    target[1, 0, 2, 0] = float("nan")
    extra = torch.zeros(B, E, G, V, dtype=torch.bool)
    extra[0, 0, 1, 1] = True
    pred.requires_grad_()
    loss = _loss(nans=True)(pred, target, nan_mask=extra)
    dropped = {(1, 2, 0), (0, 1, 1)}
    expected = _hand_mse(pred.detach(), torch.nan_to_num(target), lambda b, g, v: 0.0 if (b, g, v) in dropped else 1.0)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    assert pred.grad[1, 0, 2, 0] == 0 and pred.grad[0, 0, 1, 1] == 0
    assert torch.all(torch.isfinite(pred.grad))


def test_without_nan_mask_scaler_a_missing_target_makes_the_loss_nan():
    pred, target = _data()
    target[0, 0, 0, 0] = float("nan")
    assert torch.isnan(_loss()(pred, target))


def test_unselected_scalers_are_one():
    pred, target = _data()
    plain = _loss(variable=None, node=None)(pred, target)
    assert plain.item() == pytest.approx(float((pred - target).square().sum(dim=(2, 3)).mean()))


def test_combined_loss_is_the_weighted_sum_of_its_terms():
    pred, target = _data()
    mse, mae = _loss("mse"), _loss("mae")
    combined = CombinedLoss([mse, mae], [0.7, 0.3])
    expected = 0.7 * mse(pred, target) + 0.3 * mae(pred, target)
    torch.testing.assert_close(combined(pred, target), expected)


@pytest.mark.parametrize("kind", ["mse", "rmse", "mae", "huber", "logcosh"])
def test_weighted_loss_gradcheck_with_all_scalers(kind):
    pred, target = _data()
    pred = (pred + 0.05).requires_grad_()  # keep |p - t| away from mae/huber kinks
    loss = _loss(kind, decay=0.8, nans=True)
    assert torch.autograd.gradcheck(lambda p: loss(p, target, lead_time_index=1), (pred,))


def test_crps_term_on_an_ensemble_gradcheck():
    g = torch.Generator().manual_seed(1)
    pred = torch.randn(B, 4, G, V, generator=g, dtype=torch.float64).requires_grad_()
    target = torch.randn(B, 1, G, V, generator=g, dtype=torch.float64)
    loss = _loss("crps")
    assert loss(pred, target).item() > -1e-12
    assert torch.autograd.gradcheck(lambda p: loss(p, target), (pred,))


def test_mismatched_shapes_are_explained():
    with pytest.raises(ValueError, match=r"target \(2, 1, 4, 2\) does not match pred \(2, 1, 3, 2\)"):
        _loss()(torch.zeros(2, 1, 3, 2), torch.zeros(2, 1, 4, 2))


def _members(count: int = 3):
    g = torch.Generator().manual_seed(1)
    return torch.randn(B, count, G, V, generator=g, dtype=torch.float64), torch.randn(B, 1, G, V, generator=g,
                                                                                       dtype=torch.float64)


def test_crps_terms_weight_the_ensemble_crps_per_point_and_variable():
    from anemoic.runtime.losses.ensemble import kernel_crps

    pred, target = _members()
    expected = (kernel_crps(pred, target, 0.9) * NODE.view(1, 1, G, 1) * VAR).sum(dim=(2, 3)).mean()
    torch.testing.assert_close(_loss("crps", alpha=0.9, decay=0.5)(pred, target, lead_time_index=1), 0.5 * expected)


def test_energy_score_terms_put_the_node_weights_inside_the_norm_and_the_variable_weights_outside():
    pred, target = _members()
    total = 0.0
    for b, v in itertools.product(range(B), range(V)):
        def norm(a, c):
            return float(((a - c) ** 2 * NODE).sum().sqrt())
        x, y = pred[b, :, :, v], target[b, 0, :, v]
        skill = sum(norm(x[m], y) for m in range(3)) / 3
        spread = sum(norm(x[m], x[n]) for m in range(3) for n in range(3) if m != n) / (2 * 3 * 2)
        total += float(VAR[v]) * (skill - spread)
    torch.testing.assert_close(_loss("energy_score")(pred, target), torch.tensor(total / B, dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda p: _loss("energy_score")(p, target), (pred.requires_grad_(),))
