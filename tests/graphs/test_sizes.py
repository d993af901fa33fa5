import dataclasses
import subprocess
import sys

import pytest

from anemoic.plan.model import EdgesPlan, NodesPlan
from anemoic.graphs.build import build_arrays
from anemoic.graphs.edges import reference_distance
from anemoic.graphs.errors import GraphError
from anemoic.geo.icosahedron import refine
from anemoic.graphs.sizes import ICOSAHEDRAL_REFERENCE, estimate_sizes
from tests.graphs.helpers import o_grid, recipe

EXACT_RECIPES = {
    "icosahedral+knn": recipe(encoder=EdgesPlan("knn", {"k": 4}, reversed=True)),
    "healpix": recipe(hidden=NodesPlan("healpix", {"level": 3}), encoder=EdgesPlan("knn", {"k": 6}),
                      processor=EdgesPlan("knn", {"k": 8})),
    "latlon": recipe(hidden=NodesPlan("latlon", {"resolution_deg": 10.0}), encoder=EdgesPlan("knn", {"k": 2}),
                     processor=EdgesPlan("knn", {"k": 5}), decoder=EdgesPlan("knn", {"k": 1})),
    "multiscale-levels": recipe(hidden=NodesPlan("icosahedral", {"refinement": 4}),
                                encoder=EdgesPlan("knn", {"k": 1}, reversed=True),
                                processor=EdgesPlan("multiscale", {"levels": 2})),
}


def _built(plan, grid=16):
    arrays = build_arrays(plan, *o_grid(grid))
    return {
        "nodes": {"data": arrays.num_nodes("data"), "hidden": arrays.num_nodes("hidden")},
        "edges": {name: int(edges.edge_index.shape[1]) for name, edges in arrays.edges.items()},
    }


@pytest.mark.parametrize("name", EXACT_RECIPES)
def test_estimates_are_exact_for_meshes_knn_and_multiscale(name):
    plan = EXACT_RECIPES[name]
    estimate = estimate_sizes(plan, 1600)
    assert estimate["exact"] is True
    assert {key: estimate[key] for key in ("nodes", "edges")} == _built(plan)


def test_cutoff_estimate_is_marked_approximate_and_close():
    plan = recipe(hidden=NodesPlan("icosahedral", {"refinement": 3}))
    estimate = estimate_sizes(plan, 5248)
    built = _built(plan, grid=32)
    assert estimate["exact"] is False
    assert estimate["nodes"] == built["nodes"]
    assert estimate["edges"]["encoder"] == pytest.approx(built["edges"]["encoder"], rel=0.1)


def test_limited_area_estimates_are_approximate():
    box = {"north": 70.0, "west": -20.0, "south": 30.0, "east": 40.0}
    plan = recipe(hidden=NodesPlan("icosahedral", {"refinement": 4}, area=box),
                  processor=EdgesPlan("multiscale", {"levels": 4}))
    estimate = estimate_sizes(plan, 1600)
    built = _built(plan)
    assert estimate["exact"] is False
    assert estimate["nodes"]["hidden"] == pytest.approx(built["nodes"]["hidden"], rel=0.15)
    assert estimate["edges"]["processor"] == pytest.approx(built["edges"]["processor"], rel=0.25)


@pytest.mark.parametrize("hidden", [
    NodesPlan("icosahedral", {"refinement": 5, "mask": "maritime", "margin_km": 600.0}),
    NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 5, "mask": "maritime", "margin_km": 600.0}),
], ids=lambda n: n.kind)
def test_masked_mesh_estimates_follow_the_region_box_or_bound_it(hidden):
    import numpy as np

    from anemoic.graphs.cutout import cutout_grid

    box = {"north": 10.0, "west": 100.0, "south": -10.0, "east": 140.0}
    region_lat, region_lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 2.0), np.arange(100.0, 141.0, 2.0)))
    grid = cutout_grid(region_lat, region_lon, *o_grid(16), margin_km=0.0)
    plan = recipe(hidden=hidden, processor=EdgesPlan("knn", {"k": 6}))
    built = build_arrays(plan, grid.lat, grid.lon, region_size=grid.region_size).num_nodes("hidden")
    estimate = estimate_sizes(plan, len(grid.lat), region_area=box)
    assert estimate["exact"] is False
    assert estimate["nodes"]["hidden"] == pytest.approx(built, rel=0.3)
    assert estimate_sizes(plan, len(grid.lat))["nodes"]["hidden"] > 3 * built  # no box: the whole mesh, a bound


def test_anemoi_default_recipe_at_n320_and_level_6():
    plan = recipe(hidden=NodesPlan("icosahedral", {"refinement": 6}), processor=EdgesPlan("multiscale", {"levels": 6}))
    estimate = estimate_sizes(plan, 542_080)
    assert estimate["nodes"] == {"data": 542_080, "hidden": 40_962}
    assert estimate["edges"]["processor"] == 327_600
    assert estimate["edges"]["decoder"] == 1_626_240
    assert estimate["edges"]["encoder"] == pytest.approx(852_824, rel=0.02)  # anemoi-graphs' count


@pytest.mark.parametrize("level", range(0, 7))
def test_icosahedral_reference_table_matches_the_built_mesh(level):
    assert ICOSAHEDRAL_REFERENCE[level] == pytest.approx(reference_distance(refine(level).xyz), rel=1e-12)


def test_bad_recipes_raise_graph_errors():
    with pytest.raises(GraphError, match="refinement"):
        estimate_sizes(recipe(hidden=NodesPlan("icosahedral", {})), 10)
    with pytest.raises(GraphError, match="icosahedral or stretched"):
        estimate_sizes(recipe(hidden=NodesPlan("healpix", {"level": 1})), 10)
    with pytest.raises(GraphError, match="unknown edge kind"):
        estimate_sizes(dataclasses.replace(recipe(), decoder=EdgesPlan("radius", {})), 10)


def test_sizes_import_neither_numpy_nor_torch():
    code = ("import sys; import anemoic.graphs.sizes; "
            "print(sorted(m for m in ('numpy', 'torch', 'scipy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
