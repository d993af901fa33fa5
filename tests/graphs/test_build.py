"""Building a whole graph on a limited-area model's cut-out grid (the region first, the boundary beyond it)."""

import numpy as np
import pytest

from anemoic.graphs.build import build_arrays, build_or_load
from anemoic.graphs.cutout import cutout_grid
from anemoic.geo.icosahedron import num_nodes
from anemoic.plan.model import EdgesPlan, NodesPlan
from tests.graphs.helpers import o_grid, recipe

MARITIME = {"north": 10.0, "west": 100.0, "south": -10.0, "east": 140.0}


@pytest.fixture(scope="module")
def grid():
    lat, lon = (a.ravel() for a in np.meshgrid(np.arange(-10.0, 11.0, 2.0), np.arange(100.0, 141.0, 2.0)))
    return cutout_grid(lat, lon, *o_grid(16), margin_km=300.0)


@pytest.mark.parametrize("hidden", [
    NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 4}, area=MARITIME),
    NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 4, "mask": "maritime", "margin_km": 300.0}),
], ids=["area", "mask"])
def test_a_stretched_mesh_builds_on_a_cut_out_grid(grid, hidden):
    """Fine mesh over the region, the coarse global mesh over the boundary: every data node of the region sends an
    encoder edge (the cut-off radius follows the fine mesh, so a few boundary nodes where the mesh coarsens send
    none: ``graph describe`` warns) and every data node receives decoder edges."""
    arrays = build_arrays(recipe(hidden=hidden, processor=EdgesPlan("multiscale", {})), grid.lat, grid.lon,
                          region_size=grid.region_size)
    assert arrays.num_nodes("data") == len(grid.lat)
    assert np.array_equal(arrays.data_grid_index, np.arange(len(grid.lat)))  # region first, as the grid
    assert num_nodes(2) + 40 < arrays.num_nodes("hidden") < num_nodes(3)
    encoder, decoder = arrays.edges["encoder"].edge_index, arrays.edges["decoder"].edge_index
    sent = np.bincount(encoder[0], minlength=len(grid.lat))
    assert sent[: grid.region_size].min() > 0 and (sent[grid.region_size:] == 0).mean() < 0.02
    assert np.bincount(decoder[1], minlength=len(grid.lat)).min() == 3
    hidden_lat, hidden_lon = np.degrees(arrays.hidden_x[:, 0]), np.degrees(arrays.hidden_x[:, 1])
    fine = (abs(hidden_lat) < 9) & (hidden_lon > 101) & (hidden_lon < 139)
    assert fine.sum() > 40  # a level-4 mesh (about 450 km) over the 20 x 40 degree box; level 2 has a handful


def test_the_cache_tells_region_sizes_apart(grid, tmp_path):
    plan = recipe(hidden=NodesPlan("icosahedral", {"refinement": 3, "mask": "maritime", "margin_km": 500.0}))
    _, path = build_or_load(plan, grid.lat, grid.lon, tmp_path, region_size=grid.region_size)
    _, smaller = build_or_load(plan, grid.lat, grid.lon, tmp_path, region_size=grid.region_size // 2)
    _, again = build_or_load(plan, grid.lat, grid.lon, tmp_path, region_size=grid.region_size)
    assert path != smaller and path == again and len(list(tmp_path.glob("graph-*.npz"))) == 2
