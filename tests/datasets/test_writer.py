"""The store writer: atomic replacement, statistics periods, extra arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anemoic.datasets.metadata import MetadataReader
from anemoic.datasets.store import open_store
from anemoic.datasets.writer import StoreWriter


def _writer(path: Path, **kwargs) -> StoreWriter:
    dates = np.arange(np.datetime64("2020-01-01T00", "s"), np.datetime64("2020-01-02T00", "s"),
                      np.timedelta64(6, "h"))
    return StoreWriter(path, variables=("a", "b"), dates=dates, latitudes=np.array([10.0, 0.0, -10.0]),
                       longitudes=np.array([0.0, 90.0, 180.0]), ensembles=1, frequency_s=21600,
                       attrs={"licence": "CC0-1.0"}, statistics_start=dates[0], statistics_end=dates[2], **kwargs)


def test_a_store_appears_only_when_complete_and_replaces_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "s.zarr"
    first = _writer(target)
    first.write(np.ones((4, 2, 1, 3)))
    first.close()
    second = _writer(target, missing_dates=(np.datetime64("2020-01-01T06:00"),))
    second.write(np.arange(24, dtype=np.float32).reshape(4, 2, 1, 3))
    assert open_store(target).statistics["mean"].tolist() == [1.0, 1.0]  # the old store, untouched so far
    second.add_array("area_weight", np.array([0.25, 0.5, 0.25]))
    second.close()
    store = open_store(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]  # no temporary folders left
    data = np.asarray(store.data[...])
    assert np.isnan(data[1]).all()  # the missing date
    # statistics over dates 0 and 2 only (1 is missing, 3 is after the statistics end)
    expected = [np.mean([0, 1, 2, 12, 13, 14]), np.mean([3, 4, 5, 15, 16, 17])]
    np.testing.assert_allclose(store.statistics["mean"], expected)
    assert store.attrs["licence"] == "CC0-1.0" and store.metadata.missing_dates[0].hour == 6
    assert MetadataReader(target).read("area_weight").tolist() == [0.25, 0.5, 0.25]


def test_closing_early_and_layout_names_are_refused(tmp_path: Path) -> None:
    writer = _writer(tmp_path / "s.zarr")
    writer.write(np.ones((2, 2, 1, 3)))
    with pytest.raises(RuntimeError, match="wrote 2 of 4 dates before close"):
        writer.close()
    with pytest.raises(ValueError, match="belongs to the store layout"):
        writer.add_array("mean", np.zeros(2))
    assert not (tmp_path / "s.zarr").exists()
