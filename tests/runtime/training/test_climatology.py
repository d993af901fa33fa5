"""Climatology: the training mean of the same calendar month and hour, else the training mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anemoic.datasets.store import open_store
from anemoic.runtime.training.climatology import Climatology
from tests.runtime.training.tiny_run import write_tiny_store


def test_month_hour_means_and_the_fallback(tmp_path: Path) -> None:
    store = open_store(write_tiny_store(tmp_path))
    clim = Climatology.from_store(store, "2020-01-01T00:00:00", "2020-01-10T18:00:00", [4, 0])
    noon = [i for i, d in enumerate(store.dates[:40]) if str(d).endswith("12:00:00")]
    expected = np.mean([store.read(i)[[4, 0], 0].T for i in noon], axis=0)
    got = clim.for_dates(np.array(["2020-01-25T12:00"], dtype="datetime64[s]"))[0]
    assert np.allclose(got, expected, rtol=1e-5)
    overall = np.mean([store.read(i)[[4, 0], 0].T for i in range(40)], axis=0)
    february = clim.for_dates(np.array(["2021-02-01T12:00"], dtype="datetime64[s]"))[0]
    assert np.allclose(february, overall, rtol=1e-5)  # no February in training: the plain mean


def test_reading_is_capped_but_keeps_every_month_hour(tmp_path: Path) -> None:
    store = open_store(write_tiny_store(tmp_path))
    capped = Climatology.from_store(store, "2020-01-01T00:00:00", "2020-01-20T18:00:00", [0], max_dates=8)
    assert sorted(capped.by_month_hour) == [(1, 0), (1, 6), (1, 12), (1, 18)]
