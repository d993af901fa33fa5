"""Synthetic stores: layout, gaps, NaNs, ensembles, determinism and statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anemoic.geo.grids import grid_points, octahedral_reduced_gaussian
from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store


def test_octahedral_reduced_gaussian_has_the_aifs_point_counts() -> None:
    assert len(octahedral_reduced_gaussian(96)[0]) == 40_320
    lat, lon = octahedral_reduced_gaussian(16)
    assert len(lat) == 1600 and lat[0] > 85 and lat[-1] < -85
    assert np.allclose(np.sort(lat), -np.sort(lat)[::-1])  # symmetric rows
    assert grid_points((3, 4))[2:] == ("3x4", (3, 4))
    with pytest.raises(ValueError, match="neither"):
        grid_points("n320")


def test_values_are_physical_and_stored_statistics_match_the_data(small_store: Path) -> None:
    store = open_store(small_store)
    data = np.asarray(store.data[...], dtype=np.float64)
    index = store.name_to_index
    missing = store.date_index("2020-01-10T06:00")
    assert np.isnan(data[missing]).all()
    valid = np.delete(data, missing, axis=0)
    assert 240 < valid[:, index["2t"]].mean() < 300 and (valid[:, index["tp"]] >= 0).all()
    assert set(np.unique(valid[:, index["lsm"]])) == {0.0, 1.0}
    assert (valid[:, index["z_500"]] > valid[:, index["z_850"]]).all()  # hydrostatic ordering
    flat = np.moveaxis(valid, 1, 0).reshape(10, -1)
    np.testing.assert_allclose(store.statistics["mean"], flat.mean(1), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(store.statistics["stdev"], flat.std(1), rtol=1e-4, atol=1e-9)
    np.testing.assert_array_equal(store.statistics["maximum"], flat.max(1))


def test_the_fields_are_predictable_beyond_persistence(small_store: Path) -> None:
    """Waves travel: a 6 h shift of z_500 is not zero and differs from a random field's."""
    store = open_store(small_store)
    z = np.asarray(store.data[0:20, 0, 0], dtype=np.float64)
    tendency = np.diff(z, axis=0).std()
    assert 0.02 * z.std() < tendency < 0.5 * z.std()


def test_ensembles_nans_seed_and_statistics_period(tmp_path: Path) -> None:
    kwargs = dict(grid=(6, 12), variables=("sst", "2t"), start="2021-01-01", end="2021-01-05", frequency="1d",
                  ensembles=3, nan_fraction=0.25, nan_variables=("sst",), seed=3)
    first = open_store(write_synthetic_store(tmp_path / "a.zarr", statistics_end="2021-01-03", **kwargs))
    again = open_store(write_synthetic_store(tmp_path / "b.zarr", statistics_end="2021-01-03", **kwargs))
    data = np.asarray(first.data[...])
    assert data.shape == (5, 2, 3, 72)
    np.testing.assert_array_equal(data, np.asarray(again.data[...]))
    nan_points = np.isnan(data[:, 0])
    assert nan_points.all(axis=(0, 1)).sum() == nan_points.any(axis=(0, 1)).sum() > 0  # same points every date
    assert not np.isnan(data[:, 1]).any()
    assert not np.array_equal(data[:, :, 0], data[:, :, 1])  # members differ
    assert first.has_nans.tolist() == [True, False]
    np.testing.assert_allclose(first.statistics["mean"][1], data[:3, 1].astype(np.float64).mean(), rtol=1e-6)
    assert first.attrs["statistics_end_date"] == "2021-01-03T00:00:00"


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not one of the store's dates"):
        write_synthetic_store(tmp_path / "x.zarr", missing_dates=["2020-01-01T01:00"])
    with pytest.raises(ValueError, match="nan_variables"):
        write_synthetic_store(tmp_path / "x.zarr", nan_variables=("sst",), nan_fraction=0.1)
    assert not (tmp_path / "x.zarr").exists()


def test_an_area_keeps_the_grids_points_inside_it_across_the_dateline(tmp_path: Path) -> None:
    store = open_store(write_synthetic_store(tmp_path / "r.zarr", grid=(36, 72), end="2020-01-02",
                                             area=(30.0, 140.0, -30.0, 240.0)))
    lat, lon, _, _ = grid_points((36, 72))
    inside = (np.abs(lat) <= 30) & (lon >= 140) & (lon <= 240)
    np.testing.assert_array_equal(store.latitudes, lat[inside])
    np.testing.assert_array_equal(store.longitudes, lon[inside])
    assert store.metadata.grid_size == 12 * 21 and store.attrs["field_shape"] == [252]
    wrapped = open_store(write_synthetic_store(tmp_path / "w.zarr", grid=(18, 36), end="2020-01-02",
                                               area=(20.0, 340.0, -20.0, 20.0)))
    assert set(np.unique(wrapped.longitudes)) == {340.0, 350.0, 0.0, 10.0, 20.0}
    with pytest.raises(ValueError, match="no point of the grid"):
        write_synthetic_store(tmp_path / "x.zarr", grid=(18, 36), area=(1.0, 0.0, -1.0, 1.0))
