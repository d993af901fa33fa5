"""A spatial downscaler's plan holds its coarse ``source`` dataset, and only a spatial downscaler's does; a plan
without one is written and hashed as before the field existed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from anemoic.plan.canonical import plan_hash
from anemoic.plan.errors import PlanError
from anemoic.plan.io import read_plan, write_plan
from anemoic.plan.model import SourcePlan, TaskPlan
from anemoic.plan.windows import sample_offsets, window_length
from tests.factories import make_plan

SPATIAL = TaskPlan(kind="spatial_downscaler", timestep_s=6 * 3600)


def _source(plan, variables=None):
    return SourcePlan(dataset=dataclasses.replace(plan.dataset, name="coarse", path="coarse.zarr", grid_size=8),
                      variables=plan.variables if variables is None else variables)


def test_a_spatial_downscaler_with_its_source_round_trips(tmp_path: Path) -> None:
    plan = make_plan()
    spatial = dataclasses.replace(plan, task=SPATIAL, source=_source(plan))
    write_plan(spatial, tmp_path / "spatial.json")
    data = json.loads((tmp_path / "spatial.json").read_text())
    assert data["source"]["interpolation"] == "bilinear" and data["source"]["dataset"]["name"] == "coarse"
    assert read_plan(tmp_path / "spatial.json") == spatial
    write_plan(plan, tmp_path / "plain.json")
    assert "source" not in json.loads((tmp_path / "plain.json").read_text())  # ADDED_IN_SCHEMA: left out
    assert plan_hash(read_plan(tmp_path / "plain.json")) == plan_hash(plan)
    assert sample_offsets(SPATIAL, "train") == (0,) and window_length(SPATIAL, "validate") == 1


def test_a_source_and_the_spatial_downscaler_come_together() -> None:
    plan = make_plan()
    with pytest.raises(PlanError, match="a forecaster with one"):
        dataclasses.replace(plan, source=_source(plan))
    with pytest.raises(PlanError, match="a spatial_downscaler without one"):
        dataclasses.replace(plan, task=SPATIAL)


def test_the_source_carries_the_targets_variables_in_order() -> None:
    plan = make_plan()
    with pytest.raises(PlanError, match="source dataset's variables differ"):
        dataclasses.replace(plan, task=SPATIAL, source=_source(plan, plan.variables[::-1]))
