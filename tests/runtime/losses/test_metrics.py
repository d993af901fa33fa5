"""Validation metrics against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.losses.metrics import ValidationMetrics, acc, bias, build_metrics, rmse
from tests.factories import make_plan
from tests.runtime.models.tiny_graph import tiny_graph

W = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)


def _field(values):
    return torch.tensor(values, dtype=torch.float64).view(1, 1, -1, 1)


def test_rmse_and_bias_are_area_weighted():
    pred, target = _field([1.0, 2.0, 3.0]), _field([0.0, 0.0, 5.0])
    # errors 1, 2, -2: weighted mean 0.5 + 0.5 - 0.5 = 0.5; squared 0.5 + 1 + 1 = 2.5
    assert bias(pred, target, W).item() == pytest.approx(0.5)
    assert rmse(pred, target, W).item() == pytest.approx(2.5 ** 0.5)


def test_missing_targets_are_skipped_and_weights_renormalised():
    pred, target = _field([1.0, 2.0, 3.0]), _field([0.0, float("nan"), 5.0])
    # remaining weights 0.5, 0.25 -> 2/3, 1/3 of errors 1, -2: bias 0; mse 2/3 + 4/3 = 2
    assert bias(pred, target, W).item() == pytest.approx(0.0)
    assert rmse(pred, target, W).item() == pytest.approx(2.0 ** 0.5)


def test_acc_is_one_for_scaled_anomalies_and_minus_one_for_flipped():
    clim = _field([10.0, 20.0, 30.0])
    target = clim + _field([1.0, -2.0, 0.5])
    assert acc(clim + 3 * (target - clim), target, clim, W).item() == pytest.approx(1.0)
    assert acc(clim - (target - clim), target, clim, W).item() == pytest.approx(-1.0)


def test_acc_hand_value():
    clim = _field([0.0, 0.0, 0.0])
    pred, target = _field([1.0, 0.0, 0.0]), _field([1.0, 1.0, 0.0])
    # weighted means: pred 0.5, target 0.75; anomalies fa = [.5, -.5, -.5], oa = [.25, .25, -.75]
    # cov = .5*.125 + .25*(-.125) + .25*(.375) = .125; var_f = .25; var_o = .5*.0625+.25*.0625+.25*.5625 = .1875
    assert acc(pred, target, clim, W).item() == pytest.approx(0.125 / (0.25 * 0.1875) ** 0.5)


def test_ensemble_is_scored_through_its_mean():
    members = torch.tensor([0.0, 2.0], dtype=torch.float64).view(1, 2, 1, 1).expand(1, 2, 3, 1)
    assert rmse(members, _field([1.0, 1.0, 1.0]), W).item() == pytest.approx(0.0)


def test_validation_metrics_names_each_variable_and_lead_time():
    plan = make_plan()
    metrics = build_metrics(plan, tiny_graph(grid=40))
    n = len(plan.indices.output)
    pred, target = torch.ones(1, 1, 40, n), torch.zeros(1, 1, 40, n)
    values = metrics.compute(pred, target, lead_step=2, climatology=torch.full((n,), 0.5))
    assert values["rmse/z_500/+12h"].item() == pytest.approx(1.0)
    assert values["bias/tp/+12h"].item() == pytest.approx(1.0)
    assert len(values) == 3 * n
    assert not [k for k in metrics.compute(pred, target, lead_step=1) if k.startswith("acc/")]


def test_lead_label_uses_minutes_when_not_whole_hours():
    assert ValidationMetrics(("rmse",), ("x",), W, 1800).lead_label(3) == "+90min"


def test_unknown_metric_is_named():
    with pytest.raises(ValueError, match="unknown validation metric 'mae'; choose from rmse, bias, acc"):
        ValidationMetrics(("rmse", "mae"), ("x",), W, 3600)
