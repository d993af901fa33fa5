"""build_loss from a plan: scaler selection per term, combined terms, and the error texts (golden)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anemoic.plan.model import LossPlan, LossTermPlan, ScalerPlan
from anemoic.runtime.losses import build_loss
from tests.factories import make_plan
from tests.golden import assert_golden
from tests.runtime.models.tiny_graph import tiny_graph

GOLDEN = Path(__file__).parent / "golden" / "build_loss_errors.txt"
GRAPH = tiny_graph(grid=40, hidden=12)


def _plan_with(loss: LossPlan):
    return make_plan(**{"loss": loss})


def _outputs():
    return make_plan().indices.output


def _scalers():
    n = len(_outputs())
    general = tuple(float(i + 1) for i in range(n))
    levels = tuple(0.5 if name.endswith("_500") else 1.0 for name in _outputs())
    return (
        ScalerPlan("general", "variable", weights=general),
        ScalerPlan("levels", "pressure_level", weights=levels),
        ScalerPlan("area", "node_weights", params={"attribute": "area_weight"}),
        ScalerPlan("decay", "lead_time", params={"decay": 0.9}),
        ScalerPlan("missing", "nan_mask"),
    )


def test_each_term_applies_only_the_scalers_it_names():
    loss = build_loss(_plan_with(LossPlan(
        terms=(LossTermPlan("mse", weight=2.0, scalers=("general", "levels", "area", "decay")),
               LossTermPlan("mae", weight=0.5, scalers=("area",))),
        scalers=_scalers(),
    )), GRAPH)
    g = torch.Generator().manual_seed(0)
    n = len(_outputs())
    pred, target = torch.randn(2, 1, 40, n, generator=g), torch.randn(2, 1, 40, n, generator=g)
    s = torch.tensor([w for w in _scalers()[0].weights]) * torch.tensor(_scalers()[1].weights)
    w = GRAPH["data"].area_weight.view(1, 1, -1, 1)
    mse = (w * s * (pred - target).square()).sum(dim=(2, 3)).mean() * 0.9 ** 3
    mae = (w * (pred - target).abs()).sum(dim=(2, 3)).mean()
    torch.testing.assert_close(loss(pred, target, lead_time_index=3), 2.0 * mse + 0.5 * mae)


def test_default_factory_plan_builds_and_is_area_weighted_mean_times_variables():
    loss = build_loss(make_plan(), GRAPH)
    n = len(_outputs())
    pred, target = torch.ones(1, 1, 40, n), torch.zeros(1, 1, 40, n)
    # unit-sum area weights and unit variable weights: sum over variables of an area mean of 1
    torch.testing.assert_close(loss(pred, target), torch.tensor(float(n)))


def _error_messages() -> list[str]:
    n = len(_outputs())
    cases = [
        LossPlan(terms=(LossTermPlan("mse", scalers=("general", "typo")),), scalers=_scalers()),
        LossPlan(terms=(LossTermPlan("mse", scalers=("short",)),),
                 scalers=(ScalerPlan("short", "variable", weights=(1.0,) * (n - 1)),)),
        LossPlan(terms=(LossTermPlan("msle"),)),
        LossPlan(terms=(LossTermPlan("mse", scalers=("odd",)),), scalers=(ScalerPlan("odd", "tendency"),)),
        LossPlan(terms=(LossTermPlan("mse", scalers=("lat",)),),
                 scalers=(ScalerPlan("lat", "node_weights", params={"attribute": "cos_lat"}),)),
        LossPlan(terms=(LossTermPlan("mse", scalers=("shares",)),),
                 scalers=(ScalerPlan("shares", "dataset_weights", weights=(0.5, 0.5)),)),
        LossPlan(terms=(LossTermPlan("mse", params={"variable_reduction": "max"}),)),
        LossPlan(terms=()),
    ]
    messages = []
    for case in cases:
        with pytest.raises(ValueError) as raised:
            build_loss(_plan_with(case), GRAPH)
        messages.append(str(raised.value))
    return messages


def test_plan_mistakes_give_the_golden_messages():
    assert_golden("\n".join(_error_messages()) + "\n", GOLDEN)
