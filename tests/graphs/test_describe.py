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
