"""The model's grid at compile time: a limited-area model's region box, for the size of a mesh kept near it."""

from __future__ import annotations

import dataclasses

import pytest

from anemoic.compiler.data_grid import region_box
from anemoic.datasets.synth import write_synthetic_store
from anemoic.graphs.sizes import estimate_sizes
from anemoic.plan.model import BoundaryPlan, NodesPlan
from tests.factories import make_plan


@pytest.mark.parametrize("area", [(30.0, 150.0, -20.0, 275.0), (60.0, -20.0, 30.0, 40.0)])
def test_the_region_box_spans_the_regions_points_across_the_date_line(tmp_path, area):
    region = write_synthetic_store(tmp_path / "region.zarr", grid="o16", area=area, end="2020-01-02")
    plan = make_plan(str(region))
    assert region_box(plan) is None  # one dataset: no region
    lam = dataclasses.replace(plan, boundary=BoundaryPlan(plan.dataset, plan.variables, 300.0),
                              task=dataclasses.replace(plan.task, output_mask=plan.dataset.name))
    box = region_box(lam)
    north, west, south, east = area
    assert south <= box["south"] < box["north"] <= north
    assert (box["west"] - west) % 360 < 10 and (east - box["east"]) % 360 < 10  # within one o16 spacing
    assert 0 < (box["east"] - box["west"]) < 360


def test_a_mesh_kept_near_the_region_is_estimated_smaller_than_the_whole_mesh():
    graph = make_plan().graph
    masked = dataclasses.replace(graph, hidden=NodesPlan("icosahedral", {"refinement": 4, "mask": "r",
                                                                          "margin_km": 300.0}))
    box = {"north": 30.0, "west": 150.0, "south": -20.0, "east": 275.0}
    whole = estimate_sizes(masked, 1000)["nodes"]["hidden"]
    near = estimate_sizes(masked, 1000, box)["nodes"]["hidden"]
    assert near < whole / 3
