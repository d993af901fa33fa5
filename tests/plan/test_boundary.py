"""A limited-area plan cannot exist without its output mask, nor a mask without a boundary (anemoi issue 150)."""

from __future__ import annotations

import dataclasses

import pytest

from anemoic.plan.errors import PlanError
from anemoic.plan.model import BoundaryPlan
from tests.factories import make_plan


def _boundary(plan, variables=None):
    return BoundaryPlan(dataset=dataclasses.replace(plan.dataset, name="globe", path="globe.zarr"),
                        variables=plan.variables if variables is None else variables, margin_km=200.0)


def test_a_boundary_with_the_region_as_output_mask_is_a_plan():
    plan = make_plan()
    lam = dataclasses.replace(plan, boundary=_boundary(plan),
                              task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))
    assert lam.boundary.margin_km == 200.0


def test_a_boundary_without_an_output_mask_is_refused():
    plan = make_plan()
    with pytest.raises(PlanError, match="output mask is missing, not the region"):
        dataclasses.replace(plan, boundary=_boundary(plan))


def test_an_output_mask_without_a_boundary_is_refused():
    plan = make_plan()
    with pytest.raises(PlanError, match="no boundary dataset"):
        dataclasses.replace(plan, task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))


def test_the_boundary_must_carry_the_regions_variables_in_order():
    plan = make_plan()
    with pytest.raises(PlanError, match="variables differ"):
        dataclasses.replace(plan, boundary=_boundary(plan, plan.variables[::-1]),
                            task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))
