"""Normalisers, imputers, remappers and their inverses, built from a plan."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from anemoic.plan.model import ImputerPlan
from anemoic.runtime.data.preprocessing import Preprocessor
from anemoic.datasets.store import StoreError
from tests.factories import STORE_VARIABLES, make_plan

STATS = {
    "mean": np.arange(10, dtype=np.float64) + 100.0,
    "stdev": np.full(10, 4.0),
    "minimum": np.full(10, 90.0),
    "maximum": np.full(10, 130.0),
}


def _plan(**changes: dict) -> object:
    plan = make_plan()
    variables = tuple(dataclasses.replace(v, **changes.get(v.name, {})) for v in plan.variables)
    return dataclasses.replace(plan, variables=variables)


def _batch(plan: object) -> torch.Tensor:
    torch.manual_seed(0)
    return 100.0 + 10 * torch.rand(2, 3, 1, 7, len(plan.indices.data))


def test_each_normaliser_uses_its_statistics() -> None:
    plan = _plan(z_500={"normaliser": "mean_std"}, t_500={"normaliser": "std"}, z_850={"normaliser": "min_max"},
                 t_850={"normaliser": "max"}, msl={"normaliser": "none"})
    pre = Preprocessor.from_plan(plan, STATS)
    x = _batch(plan)
    xn = pre.normalise(x)
    col = {n: plan.indices.data.index(n) for n in ("z_500", "t_500", "z_850", "t_850", "msl")}
    torch.testing.assert_close(xn[..., col["z_500"]], (x[..., col["z_500"]] - 100.0) / 4.0)
    torch.testing.assert_close(xn[..., col["t_500"]], x[..., col["t_500"]] / 4.0)
    torch.testing.assert_close(xn[..., col["z_850"]], (x[..., col["z_850"]] - 90.0) / 40.0)
    torch.testing.assert_close(xn[..., col["t_850"]], x[..., col["t_850"]] / 130.0)
    torch.testing.assert_close(xn[..., col["msl"]], x[..., col["msl"]])
    out = xn[..., pre.output_index]
    torch.testing.assert_close(pre.denormalise_output(out), x[..., pre.output_index])
    torch.testing.assert_close(pre.normalise_output(x[..., pre.output_index]), out)
    torch.testing.assert_close(pre.denormalise(xn), x)


def test_routing_follows_the_roles() -> None:
    plan = make_plan()
    pre = Preprocessor.from_plan(plan, STATS)
    names = plan.indices.data
    assert [names[i] for i in pre.input_index] == list(plan.indices.input)
    assert [names[i] for i in pre.output_index] == list(plan.indices.output)
    assert "tp" not in [names[i] for i in pre.input_index]  # diagnostic: output only
    assert "lsm" not in [names[i] for i in pre.output_index]  # forcing: input only
    assert pre.prognostic_in_input.tolist() == list(range(8)) == pre.prognostic_in_output.tolist()
    assert pre.normalise_input(_batch(plan)).shape[-1] == len(plan.indices.input)


def test_remaps_are_inverted_on_output() -> None:
    plan = _plan(tp={"remap": "log1p", "normaliser": "none"}, **{"10u": {"remap": "sqrt", "normaliser": "none"}})
    pre = Preprocessor.from_plan(plan, STATS)
    x = _batch(plan)
    tp, u = plan.indices.data.index("tp"), plan.indices.data.index("10u")
    xn = pre.normalise(x)
    torch.testing.assert_close(xn[..., tp], torch.log1p(x[..., tp]))
    torch.testing.assert_close(xn[..., u], torch.sqrt(x[..., u]))
    torch.testing.assert_close(pre.denormalise_output(xn[..., pre.output_index]), x[..., pre.output_index])


def test_imputers_fill_nans_and_the_mask_remembers_them() -> None:
    plan = _plan(**{"2t": {"imputer": ImputerPlan("statistic", statistic="maximum")},
                    "10u": {"imputer": ImputerPlan("constant", value=7.0)},
                    "10v": {"imputer": ImputerPlan("copy", source="10u")}})
    pre = Preprocessor.from_plan(plan, STATS)
    x = _batch(plan)
    col = {n: plan.indices.data.index(n) for n in ("2t", "10u", "10v")}
    x[0, 0, 0, 3, list(col.values())] = float("nan")
    x[0, 0, 0, 4, col["10v"]] = float("nan")
    mask = pre.nan_mask(x)
    assert int((~mask).sum()) == 4
    filled = pre.impute(x)
    assert filled[0, 0, 0, 3, col["2t"]] == 130.0 and filled[0, 0, 0, 3, col["10u"]] == 7.0
    assert filled[0, 0, 0, 3, col["10v"]] == 7.0  # a copy takes the source's filled value
    assert filled[0, 0, 0, 4, col["10v"]] == x[0, 0, 0, 4, col["10u"]]
    assert torch.isfinite(pre.normalise(x)).all()


def test_state_lives_in_buffers_and_reloads() -> None:
    plan = make_plan()
    pre = Preprocessor.from_plan(plan, STATS)
    state = pre.state_dict()
    assert {"offset", "scale", "remap", "impute_value", "input_index", "output_index"} <= set(state)
    other = Preprocessor.from_plan(plan, {k: v * 2 for k, v in STATS.items()})
    other.load_state_dict(state)
    x = _batch(plan)
    torch.testing.assert_close(other.normalise(x), pre.normalise(x))


def test_missing_statistics_for_a_normalised_variable_are_refused() -> None:
    stats = dict(STATS, stdev=STATS["stdev"].copy())
    stats["stdev"][STORE_VARIABLES.index("msl")] = np.nan
    with pytest.raises(StoreError, match="statistics stdev are missing for 'msl', which the plan normalises with "
                                         "mean_std"):
        Preprocessor.from_plan(make_plan(), stats)
    no_minimum = {k: v for k, v in STATS.items() if k != "minimum"}
    Preprocessor.from_plan(make_plan(), no_minimum)  # nothing needs the minimum here
