from anemoic.graphs.build import build_or_load
from anemoic.graphs.plot import plot_graph
from tests.graphs.helpers import o_grid, recipe


def test_plot_writes_a_png_and_nothing_else(tmp_path):
    arrays, _ = build_or_load(recipe(), *o_grid(8))
    output = plot_graph(arrays, tmp_path / "maps" / "graph.png", max_edges=300, title="test")
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in output.parent.iterdir()] == ["graph.png"]
