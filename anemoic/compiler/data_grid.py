"""The model's data grid at compile time: a store's grid, a limited-area model's cut-out of two, or a spatial
downscaler's coarse grid followed by its fine grid.

Estimates (graph node counts), ``anemoic graph describe|plot`` and the checker's cut-out check all take the
grid from here, so they agree with the runtime, which builds the same ``anemoic.graphs.cutout`` grid.  numpy and
the store reader load inside the functions: only when a store is there to read."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from anemoic.plan.model import Plan

if TYPE_CHECKING:
    from anemoic.graphs.cutout import CutoutGrid


@functools.lru_cache(maxsize=8)
def _cached(region_path: str, boundary_path: str, margin_km: float, _stamp: tuple[str, str]) -> CutoutGrid:
    import numpy as np

    from anemoic.datasets.store import open_store
    from anemoic.graphs.cutout import cutout_grid

    region, boundary = open_store(region_path), open_store(boundary_path)
    return cutout_grid(np.asarray(region.latitudes), np.asarray(region.longitudes), np.asarray(boundary.latitudes),
                       np.asarray(boundary.longitudes), margin_km)


def combined_grid(region_path: str, boundary_path: str, margin_km: float) -> CutoutGrid:
    """The cut-out grid of two stores (raises ``GraphError`` when no boundary point lies beyond the margin);
    cached by the stores' fingerprints, as a sweep checks the same pair many times."""
    from anemoic.datasets.store import read_metadata

    stamp = (read_metadata(region_path).fingerprint, read_metadata(boundary_path).fingerprint)
    return _cached(region_path, boundary_path, float(margin_km), stamp)


def model_grid(plan: Plan) -> tuple[Any, Any]:
    """(latitudes, longitudes) in degrees of the grid the plan's model runs on: the dataset's, or for a
    limited-area model the region's points followed by the boundary's beyond the margin."""
    if plan.source is not None:  # a spatial downscaler: the coarse points, then the fine ones
        from anemoic.datasets.store import open_store
        from anemoic.graphs.downscale import combined_grid as downscale_grid

        coarse, fine = open_store(plan.source.dataset.path), open_store(plan.dataset.path)
        return downscale_grid(coarse.latitudes, coarse.longitudes, fine.latitudes, fine.longitudes)
    if plan.boundary is None:
        from anemoic.datasets.store import open_store

        store = open_store(plan.dataset.path)
        return store.latitudes, store.longitudes
    grid = combined_grid(plan.dataset.path, plan.boundary.dataset.path, plan.boundary.margin_km)
    return grid.lat, grid.lon


def model_grid_size(plan: Plan) -> tuple[int, bool]:
    """(points on the model's grid, exact): a limited-area model's whole boundary store counts when the stores
    cannot be read (an upper bound)."""
    if plan.source is not None:  # a spatial downscaler's data nodes: the coarse grid's, then the fine grid's
        return plan.dataset.grid_size + plan.source.dataset.grid_size, True
    if plan.boundary is None:
        return plan.dataset.grid_size, True
    try:
        return len(model_grid(plan)[0]), True
    except Exception:  # the stores are not here (an example's store absent): the bound, marked inexact
        return plan.dataset.grid_size + plan.boundary.dataset.grid_size, False


def region_box(plan: Plan) -> dict[str, float] | None:
    """The north/west/south/east box of a limited-area model's region (what a mesh ``mask`` keeps near, for the
    size estimate); None without a boundary or when the region's store cannot be read."""
    if plan.boundary is None:
        return None
    import numpy as np

    from anemoic.datasets.store import StoreError, open_store

    try:
        store = open_store(plan.dataset.path)
    except StoreError:
        return None
    lat, lon = np.asarray(store.latitudes, dtype=float), np.asarray(store.longitudes, dtype=float) % 360.0
    gaps = np.diff(np.concatenate([np.sort(np.unique(lon)), [np.min(lon) + 360.0]]))
    west = float(np.sort(np.unique(lon))[(int(np.argmax(gaps)) + 1) % len(gaps)])  # after the widest empty arc
    east = west + 360.0 - float(np.max(gaps)) if len(gaps) > 1 else west
    return {"north": float(lat.max()), "west": west, "south": float(lat.min()), "east": east}
