from anemoic.graphs.build import build_or_load
from anemoic.graphs.plot import plot_graph
from tests.graphs.helpers import o_grid, recipe


def test_plot_writes_a_png_and_nothing_else(tmp_path):
    arrays, _ = build_or_load(recipe(), *o_grid(8))
    output = plot_graph(arrays, tmp_path / "maps" / "graph.png", max_edges=300, title="test")
    assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in output.parent.iterdir()] == ["graph.png"]


def test_plot_colours_the_data_nodes_by_dataset(tmp_path):
    """The legend names both datasets; the two data colours (and only they) appear in the encoder panel."""
    import numpy as np
    from PIL import Image

    from anemoic.graphs.cutout import GridSources, cutout_grid
    from anemoic.graphs.plot import _COLOURS

    lat, lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 5.0), np.arange(100.0, 141.0, 5.0)))
    globe = o_grid(8)
    grid = cutout_grid(lat, lon, *globe, margin_km=500.0)
    arrays, _ = build_or_load(recipe(), grid.lat, grid.lon, region_size=grid.region_size)
    sources = GridSources.of(grid, "maritime", "globe", len(globe[0]), 500.0)
    pictures = {}
    for name, given in (("plain", None), ("lam", sources)):
        output = plot_graph(arrays, tmp_path / f"{name}.png", max_edges=100, sources=given)
        pixels = np.asarray(Image.open(output).convert("RGB")).reshape(-1, 3)
        pictures[name] = {tuple(p) for p in np.unique(pixels, axis=0)}
    rgb = {key: tuple(int(_COLOURS[key][i:i + 2], 16) for i in (1, 3, 5)) for key in ("region", "boundary", "data")}
    assert rgb["region"] in pictures["lam"] and rgb["boundary"] in pictures["lam"]
    assert rgb["region"] not in pictures["plain"] and rgb["data"] in pictures["plain"]
