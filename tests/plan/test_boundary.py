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


def _stretched(plan, mask=None):
    boundary = dataclasses.replace(_boundary(plan), forced=False)
    return dataclasses.replace(plan, boundary=boundary, task=dataclasses.replace(plan.task, output_mask=mask))


def test_a_boundary_that_is_not_forced_without_an_output_mask_is_a_stretched_grid():
    plan = make_plan()
    stretched = _stretched(plan)
    assert not stretched.boundary.forced and stretched.output_points is None
    lam = dataclasses.replace(plan, boundary=_boundary(plan),
                              task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))
    assert lam.boundary.forced and lam.output_points == plan.dataset.grid_size
    assert plan.output_points is None


def test_a_stretched_grid_with_an_output_mask_is_refused():
    plan = make_plan()
    with pytest.raises(PlanError, match="a stretched grid has none"):
        _stretched(plan, mask=plan.dataset.name)


def test_forced_is_written_only_for_a_stretched_grid_and_reads_back(tmp_path):
    from anemoic.plan.convert import plan_to_dict
    from anemoic.plan.io import read_plan, write_plan

    plan = make_plan()
    lam = dataclasses.replace(plan, boundary=_boundary(plan),
                              task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))
    assert "forced" not in plan_to_dict(lam)["boundary"]  # a schema-3 limited-area plan reads as it was
    stretched = _stretched(plan)
    assert plan_to_dict(stretched)["boundary"]["forced"] is False
    write_plan(stretched, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json") == stretched
