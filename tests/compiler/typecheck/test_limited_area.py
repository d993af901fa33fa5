"""Several datasets and limited-area models: time alignment, the boundary's plan, the combined grid.

Real synthetic stores: a regional one (the tropical Pacific points of an o32 grid) and global o16 ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from anemoic.cli.anemoic import main
from anemoic.compiler.api import compile_source
from anemoic.compiler.estimates import estimate
from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store
from anemoic.graphs.cutout import cutout_grid

AREA = (20.0, 150.0, -20.0, 250.0)
LAM = """import std.models (graphtransformer)

dataset pacific = zarr("{region}") {{
  {region_settings}train = 2020-01-02..2020-01-20
  validate = 2020-01-21..2020-01-30
}}
dataset globe = zarr("{boundary}"){boundary_settings}

variables from pacific {{
  prognostic = [z_500, 2t, msl]
  forcing = [lsm, cos_latitude]
  normalise = mean_std except {{ lsm: none, cos_latitude: none }}
}}
variables from globe {{
  prognostic = [z_500, 2t, msl]
  forcing = [lsm, cos_latitude]
  normalise = mean_std except {{ lsm: none, cos_latitude: none }}
}}

graph g = encode_process_decode(cutout(pacific, globe, margin_km = {margin}), hidden = icosahedral(refinement = 1))
model net = graphtransformer(g, channels = 16, layers = 1, heads = 4)

task forecast(net) {{
  timestep = {timestep}
  output_mask = pacific{task_settings}
  loss = mse * node_weights(area)
}}

train {{ epochs = 1; batch = 1; lr = 1e-3 }}
"""


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lam")
    made = {
        "region_6h": dict(grid="o32", area=AREA, frequency="6h"),
        "region_12h": dict(grid="o32", area=AREA, frequency="12h"),
        "globe_6h": dict(grid="o16", frequency="6h"),
        "globe_12h": dict(grid="o16", frequency="12h"),
        "globe_12h_late": dict(grid="o16", frequency="12h", start="2019-12-31T06:00"),  # 06:00 and 18:00
        "globe_other": dict(grid="o16", frequency="6h", seed=7, variables=("z_500", "2t", "msl", "lsm", "tp")),
        "globe_short": dict(grid="o16", frequency="6h", end="2020-01-25T18:00"),  # ends before the region's
        "globe_gaps": dict(grid="o16", frequency="6h", missing_dates=("2020-01-10T06:00", "2020-01-22T00:00")),
    }
    out = {}
    for name, options in made.items():
        options = {"start": "2020-01-01", "end": "2020-01-31T18:00", **options}  # type: ignore[dict-item]
        out[name] = write_synthetic_store(root / f"{name}.zarr", **options)  # type: ignore[arg-type]
    return out


def lam(stores: dict[str, Path], region: str = "region_12h", boundary: str = "globe_6h", margin: float = 300,
        timestep: str = "12h", region_settings: str = "", boundary_settings: str = "", task_settings: str = ""):
    text = LAM.format(region=stores[region], boundary=stores[boundary], margin=margin, timestep=timestep,
                      region_settings=region_settings, boundary_settings=boundary_settings,
                      task_settings=task_settings)
    return compile_source(text, "lam.anm")


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.code for d in result.diagnostics]


def test_a_boundary_at_a_finer_common_frequency_is_read_at_the_region_times(stores):
    result = lam(stores, region="region_12h", boundary="globe_6h")
    assert codes(result) == [], result.render()
    plan = result.plans[0]
    assert plan.dataset.frequency_s == 12 * 3600 and plan.boundary.dataset.frequency_s == 6 * 3600
    assert plan.task.output_mask == "pacific" and plan.boundary.margin_km == 300.0
    assert [x.name for x in plan.boundary.variables] == [x.name for x in plan.variables]
    assert plan.boundary.dataset.train == plan.dataset.train  # a boundary is read over the region's periods
    globe = open_store(stores["globe_6h"])
    assert [x.store_index for x in plan.boundary.variables] == \
        [globe.variables.index(x.name) if x.computed is None else -1 for x in plan.boundary.variables]


def test_a_coarser_boundary_is_refused_at_its_frequency(stores):
    result = lam(stores, region="region_6h", boundary="globe_12h", timestep="6h")
    assert codes(result) == ["E0511"]
    # a 12-hourly store cannot be read every 6 hours: the hint offers only reading the region less often
    assert "hint: read `pacific` at a multiple of 12h (`frequency = 12h` in its dataset block)\n" in result.render()
    # reading the region every 12 hours makes the pair compatible again
    assert codes(lam(stores, region="region_6h", boundary="globe_12h", region_settings="frequency = 12h\n  ")) == []


def test_a_boundary_read_more_sparsely_than_its_store_is_refused(stores):
    result = lam(stores, region="region_6h", boundary="globe_6h", timestep="6h",
                 boundary_settings=" { frequency = 12h }")
    assert codes(result) == ["E0511"]


def test_a_period_outside_the_boundary_store_is_refused(stores):
    result = lam(stores, boundary="globe_short")  # validate = 2020-01-21..2020-01-31
    assert codes(result) == ["E0512"]
    assert "`validate` period" in result.diagnostics[0].message


def test_a_period_may_end_after_the_stores_last_time(stores):
    """As ``2019..2021`` of monthly data ends on 2021-12-31, after the stores' last month: only the dates the
    region holds must be in the boundary."""
    result = lam(stores, region_settings="test = 2020-01-31..2020-01-31T23:00\n  ")
    assert codes(result) == []


def test_a_period_off_the_boundary_dates_is_refused(stores):
    result = lam(stores, region="region_12h", boundary="globe_12h_late")
    assert codes(result) == ["E0512", "E0512"]
    assert "not one of the boundary store's dates" in result.render()


def test_missing_dates_in_the_boundary_are_the_runtimes_business(stores):
    assert codes(lam(stores, boundary="globe_gaps")) == []


def test_boundary_periods_are_optional_but_must_overlap(stores):
    assert codes(lam(stores, boundary_settings=" { train = 2020-01-01..2020-01-25 }")) == []
    assert codes(lam(stores, boundary_settings=" { validate = 2020-01-01..2020-01-10 }")) == ["E0513"]


def test_each_variables_block_is_checked_against_its_own_store(stores):
    result = lam(stores, boundary="globe_other")  # the boundary's store has every region variable ...
    assert codes(result) == [], result.render()
    region_only = LAM.replace("[z_500, 2t, msl]", "[z_500, 2t, msl, t_850]")  # ... but not t_850
    result = compile_source(region_only.format(region=stores["region_12h"], boundary=stores["globe_other"],
                                               margin=300, timestep="12h", region_settings="",
                                               boundary_settings="", task_settings=""), "lam.anm")
    assert codes(result) == ["E0602"]
    assert "--> lam.anm:15:33" in result.render()  # in the boundary's block, not the region's (line 10)


def test_the_graph_cache_key_follows_the_boundary_store_and_the_margin(stores):
    base = lam(stores).plans[0].graph.cache_key
    assert lam(stores, margin=400).plans[0].graph.cache_key != base
    assert lam(stores, boundary="globe_other").plans[0].graph.cache_key != base
    assert lam(stores).plans[0].graph.cache_key == base


def test_estimates_count_the_combined_grid_exactly(stores):
    plan = lam(stores).plans[0]
    region, globe = open_store(stores["region_12h"]), open_store(stores["globe_6h"])
    grid = cutout_grid(np.asarray(region.latitudes), np.asarray(region.longitudes), np.asarray(globe.latitudes),
                       np.asarray(globe.longitudes), 300.0)
    assert region.metadata.grid_size < len(grid.lat) < region.metadata.grid_size + globe.metadata.grid_size
    assert estimate(plan).graph_nodes["data"] == len(grid.lat)


def test_an_ensemble_lam_compiles_and_other_tasks_are_refused(stores):
    ensemble = lam(stores, task_settings="\n  method = ensemble(members = 2)").plans[0]
    assert ensemble.task.method.kind == "ensemble" and ensemble.boundary is not None
    text = LAM.format(region=stores["region_6h"], boundary=stores["globe_6h"], margin=300, timestep="6h",
                      region_settings="", boundary_settings="", task_settings="")
    downscale = text.replace("task forecast(net) {\n  timestep = 6h", "task temporal_downscale(net) {\n  "
                             "inputs = [0, 18h]\n  targets = [6h, 12h]")
    assert codes(compile_source(downscale, "lam.anm")) == ["E1418"]


def test_graph_describe_builds_on_the_combined_grid(stores, tmp_path, capsys):
    experiment = tmp_path / "lam.anm"
    experiment.write_text(LAM.format(region=stores["region_12h"], boundary=stores["globe_6h"], margin=300,
                                     timestep="12h", region_settings="", boundary_settings="", task_settings=""))
    assert main(["graph", "describe", str(experiment), "--no-cache"]) == 0
    out = capsys.readouterr().out
    plan = compile_source(experiment.read_text(), str(experiment)).plans[0]
    size = estimate(plan).graph_nodes["data"]
    assert re.search(rf"data\s+{size:,}", out), out


def test_the_lam_plan_round_trips_through_plan_json(stores, tmp_path):
    from anemoic.plan.io import read_plan, write_plan

    plan = lam(stores).plans[0]
    write_plan(plan, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json") == plan
    assert json.loads((tmp_path / "plan.json").read_text())["task"]["output_mask"] == "pacific"


def test_the_documented_example_checks(stores, tmp_path):
    docs = (Path(__file__).resolve().parents[3] / "docs" / "language.md").read_text()
    example = next(block for block in re.findall(r"```\n(.*?)```", docs, re.S) if "cutout(pacific" in block)
    example = example.replace("data/pacific-12h.zarr", str(stores["region_12h"]))
    example = example.replace("data/globe-6h.zarr", str(stores["globe_6h"]))
    result = compile_source(example, str(tmp_path / "exp.anm"))
    assert codes(result) == [], result.render()
    assert codes(compile_source(example.replace("  output_mask = pacific", ""), str(tmp_path / "exp.anm"))) == \
        ["E0830"]


def test_build_summary_says_where_the_grid_points_come_from(stores, tmp_path, capsys):
    experiment = tmp_path / "lam.anm"
    experiment.write_text(LAM.format(region=stores["region_12h"], boundary=stores["globe_6h"], margin=300,
                                     timestep="12h", region_settings="", boundary_settings="", task_settings=""))
    assert main(["build", str(experiment), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    plan = compile_source(experiment.read_text(), str(experiment)).plans[0]
    kept = estimate(plan).graph_nodes["data"] - plan.dataset.grid_size
    assert f"  region  pacific ({plan.dataset.grid_size} points, the output mask), boundary globe ({kept:,} of " \
        f"{plan.boundary.dataset.grid_size:,} points, beyond 300 km), forced at every step\n" in out
