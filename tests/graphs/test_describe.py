import re
from pathlib import Path

from anemoic.plan.model import EdgesPlan, NodesPlan
from anemoic.graphs.build import build_or_load
from anemoic.graphs.describe import describe
from tests.golden import assert_golden
from tests.graphs.helpers import o_grid, recipe

GOLDEN = Path(__file__).parent / "golden"


def test_describe_text_matches_the_golden_file(tmp_path):
    arrays, path = build_or_load(recipe(), *o_grid(16), cache_dir=tmp_path)
    text = describe(recipe(), arrays, path).replace(str(tmp_path), "<cache>")
    text = re.sub(r"graph-[0-9a-f]+\.npz", "graph-<key>.npz", text)
    assert_golden(text, GOLDEN / "describe.txt")


def test_describe_warns_about_data_nodes_that_reach_no_hidden_node():
    coarse = recipe(hidden=NodesPlan("icosahedral", {"refinement": 1}), processor=EdgesPlan("multiscale", {}))
    arrays, _ = build_or_load(coarse, *o_grid(16))
    text = describe(coarse, arrays, None)
    assert "cache: none (built in memory)" in text
    assert "warning: 34 data nodes send no encoder edge" in text


def test_describe_names_the_data_nodes_of_each_dataset_of_a_cut_out_grid():
    import numpy as np

    from anemoic.graphs.cutout import GridSources, cutout_grid

    lat, lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 5.0), np.arange(100.0, 141.0, 5.0)))
    globe = o_grid(16)
    grid = cutout_grid(lat, lon, *globe, margin_km=500.0)
    sources = GridSources.of(grid, "maritime", "globe", len(globe[0]), 500.0)
    arrays, _ = build_or_load(recipe(), grid.lat, grid.lon, region_size=grid.region_size)
    text = describe(recipe(), arrays, None, sources)
    assert "data nodes by dataset\n  region    maritime        45  of its 45 points: scored" in text
    assert (f"  boundary  globe     {len(grid.lat) - 45:>8,}  of its 1,600 points, those farther than 500 km "
            "from the region: forced at every step\n") in text
    assert "data nodes by dataset" not in describe(recipe(), arrays, None)
