"""A limited-area model's samples: two real stores on the cut-out grid, aligned by date, each normalised with its
own statistics; windows a store lacks dates of are skipped and counted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from anemoic.datasets.store import open_store
from anemoic.runtime.data.datamodule import AnemoicDataModule
from tests.factories import make_plan
from tests.runtime.lam import lam_plan, write_globe, write_region

TWELVE_HOURS = {"task.timestep_s": 12 * 3600}


def _read(store_path: Path, dates: np.ndarray, channels: list, grid: np.ndarray | slice) -> np.ndarray:
    """(T, E, G, V) of the stored channels at ``dates`` straight from the store."""
    store = open_store(store_path)
    index = [c.store_index for c in channels if c.store_index >= 0]
    rows = [store.read(store.date_index(str(d)), index)[..., grid] for d in dates]
    return np.stack(rows).transpose(0, 2, 3, 1)


def test_a_finer_boundary_store_is_read_at_the_regions_valid_times(tmp_path: Path) -> None:
    region = write_region(tmp_path, frequency="12h")
    globe = write_globe(tmp_path, frequency="6h", seed=3)
    data = AnemoicDataModule(lam_plan(region, globe, tmp_path / "run", **TWELVE_HOURS))
    assert data.boundary is not None and data.boundary.step == 2 and data.step == 1
    dataset = data.dataset("train")
    sample, dates = dataset.read(5), dataset.dates(5)
    assert np.all(np.diff(dates) == np.timedelta64(12, "h"))
    stored = [p for p, c in enumerate(data.channels) if c.store_index >= 0]
    inner = data.boundary.grid.region_size
    np.testing.assert_array_equal(sample[:, :, :inner][..., stored], _read(region, dates, data.channels, slice(None)))
    np.testing.assert_array_equal(sample[:, :, inner:][..., stored],
                                  _read(globe, dates, data.boundary.channels, data.boundary.grid.boundary_index))
    assert sample.shape[2] == data.grid_size == len(data.latitudes)
    # the computed forcing at each part's own coordinates
    cos = data.channels.index(next(c for c in data.channels if c.computed == "cos_latitude"))
    np.testing.assert_allclose(sample[0, 0, :, cos], np.cos(np.radians(data.latitudes)), rtol=1e-6)


def test_missing_boundary_dates_skip_exactly_the_samples_that_read_them(tmp_path: Path) -> None:
    region = write_region(tmp_path)
    complete = AnemoicDataModule(lam_plan(region, write_globe(tmp_path), tmp_path / "run"))
    missing = ["2020-01-03T06:00", "2020-01-10T12:00"]
    globe = write_globe(tmp_path, name="gappy.zarr", missing_dates=missing)
    data = AnemoicDataModule(lam_plan(region, globe, tmp_path / "run"))
    dates = complete.store.dates
    window = (complete.lengths["train"] - 1) * complete.step
    reads = {int(s) for s in complete.train_starts
             if any(np.datetime64(m, "s") in dates[s: s + window + 1] for m in missing)}
    assert len(reads) == 2 * complete.lengths["train"]  # each missing date sits in that many windows
    assert set(data.train_starts.tolist()) == set(complete.train_starts.tolist()) - reads
    assert data.skipped["train"].count == len(reads)
    assert data.skipped_lines() == [
        "8 training samples skipped: dates missing in globe (2020-01-03T06, 2020-01-10T12)"]
    sample = data.dataset("train").read(0)
    assert np.isfinite(sample).all()


def test_each_part_of_the_grid_is_normalised_with_its_own_stores_statistics(tmp_path: Path) -> None:
    region = write_region(tmp_path)
    globe = write_globe(tmp_path, seed=7)
    variables = tuple(dataclasses.replace(v, remap="log1p") if v.name == "tp" else v for v in make_plan().variables)
    data = AnemoicDataModule(lam_plan(region, globe, tmp_path / "run", variables=variables))
    pre = data.preprocessor()
    tp = data.channels.index(next(c for c in data.channels if c.name == "tp"))
    assert pre.remap[0, tp] == pre.remap[-1, tp] == 1 and pre.scale[0, tp] != pre.scale[-1, tp]
    inner = data.boundary.grid.region_size
    assert tuple(pre.offset.shape) == (data.grid_size, len(data.channels))
    z = data.channels.index(next(c for c in data.channels if c.name == "z_500"))
    assert pre.offset[0, z] == pytest.approx(float(open_store(region).statistics["mean"][0]))
    assert pre.offset[-1, z] == pytest.approx(float(open_store(globe).statistics["mean"][0]))
    assert pre.offset[inner - 1, z] != pre.offset[inner, z]
    x = pre.normalise(data.dataset("train")[0])
    assert abs(float(x[..., :inner, z].mean())) < 1.5 and abs(float(x[..., inner:, z].mean())) < 1.5


def test_a_boundary_store_with_other_ensemble_members_is_refused(tmp_path: Path) -> None:
    region = write_region(tmp_path)
    globe = write_globe(tmp_path, ensembles=2)
    with pytest.raises(Exception, match="ensemble members"):
        AnemoicDataModule(lam_plan(region, globe, tmp_path / "run"))


def test_dates_missing_in_either_store_are_named_per_store(tmp_path: Path) -> None:
    region = write_region(tmp_path, missing_dates=["2020-01-22T06:00"])
    globe = write_globe(tmp_path, missing_dates=["2020-01-01T00:00", "2020-01-22T06:00", "2020-01-23T00:00"])
    data = AnemoicDataModule(lam_plan(region, globe, tmp_path / "run"))
    assert data.skipped_lines() == [
        "1 training sample skipped: dates missing in globe (2020-01-01T00)",
        "7 validation samples skipped: dates missing in pacific (2020-01-22T06); "
        "dates missing in globe (2020-01-22T06, 2020-01-23T00)"]
    assert len(data.validation_starts) + 7 == len(AnemoicDataModule(
        lam_plan(write_region(tmp_path, name="whole.zarr"), write_globe(tmp_path, name="g.zarr"),
                 tmp_path / "run")).validation_starts)
