"""The store reader: metadata, values, anemoi-datasets compatibility and bad-store errors."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anemoic.datasets.store import StoreError, open_store, read_metadata
from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.units import MONTH_S
from tests.datasets.conftest import FIXTURES, edit_consolidated

GOLDEN = Path(__file__).parent / "golden"


def fixture_value(date: datetime.datetime, var: str, member: int, point: int) -> float:
    """anemoi-datasets' create_zarr formula, as make_zarr2_fixtures.py wrote it."""
    d = date.year * 10000 + date.month * 100 + date.day
    return d * 100 + (ord(var) - ord("a") + 1) + point / 100.0 + member / 1000.0


def test_metadata_of_a_synthetic_store(small_store: Path) -> None:
    meta = read_metadata(small_store)
    assert meta.variables == ("z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp", "lsm")
    assert (meta.frequency_s, meta.grid_size, meta.ensemble_size, meta.date_count) == (21600, 1600, 1, 124)
    assert meta.start_date == datetime.datetime(2020, 1, 1)
    assert meta.end_date == datetime.datetime(2020, 1, 31, 18)
    assert meta.missing_dates == (datetime.datetime(2020, 1, 10, 6),)
    assert meta.resolution == "o16" and meta.field_shape == (1600,) and meta.constant_fields == ("lsm",)
    assert meta.statistics_missing == frozenset() and meta.tendency_frequencies == ("6h",)
    assert len(meta.fingerprint) == 64 and meta.fingerprint == read_metadata(small_store).fingerprint


def test_metadata_import_needs_neither_zarr_nor_torch(small_store: Path) -> None:
    code = (
        "import sys, anemoic.datasets.store as s; s.read_metadata(sys.argv[1]); "
        "bad = [m for m in ('zarr', 'torch') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code, str(small_store)], check=True)


def test_reads_the_create_zarr_layout_of_anemoi_datasets() -> None:
    store = open_store(FIXTURES / "create_zarr_layout.zarr")
    meta = store.metadata
    assert meta.variables == ("a", "b", "c", "d") and meta.frequency_s == 6 * 3600
    assert meta.start_date == datetime.datetime(2021, 1, 1) and meta.date_count == 160
    assert meta.missing_dates == (datetime.datetime(2021, 1, 1), datetime.datetime(2021, 2, 1))
    assert meta.field_shape == (2, 5) and meta.grid_size == 10
    date = datetime.datetime(2021, 1, 3, 12)
    block = store.read(store.date_index(date))
    expected = np.array([[[fixture_value(date, v, 0, w) for w in range(10)]] for v in "abcd"], dtype=np.float32)
    np.testing.assert_array_equal(block, expected)
    # statistics stored per (variable, member, point) are pooled exactly into per-variable ones
    data = np.asarray(store.data[...], dtype=np.float64)
    flat = np.moveaxis(data, 1, 0).reshape(4, -1)
    np.testing.assert_allclose(store.statistics["mean"], flat.mean(1), rtol=1e-12)
    np.testing.assert_allclose(store.statistics["stdev"], flat.std(1), rtol=1e-9)
    np.testing.assert_array_equal(store.statistics["minimum"], flat.min(1))


def test_reads_a_store_laid_out_as_anemoi_datasets_create_writes_it() -> None:
    store = open_store(FIXTURES / "anemoi_layout.zarr")
    meta = store.metadata
    assert meta.frequency_s == 12 * 3600 and meta.ensemble_size == 2 and meta.grid_size == 6
    assert meta.missing_dates == (datetime.datetime(2021, 3, 4, 12),)
    assert meta.tendency_frequencies == ("12h",) and meta.constant_fields == ("d",)
    date = datetime.datetime(2021, 3, 2, 12)
    block = store.read(store.date_index(date), [1, 3], slice(2, 5))
    expected = [[[fixture_value(date, v, e, w) for w in range(2, 5)] for e in range(2)] for v in "bd"]
    np.testing.assert_array_equal(block, np.array(expected, dtype=np.float32))
    np.testing.assert_allclose(store.latitudes, np.linspace(60.0, -60.0, 6))
    assert set(store.tendency_statistics("12h")) == {"mean", "stdev", "minimum", "maximum"}
    assert store.tendency_statistics(6 * 3600) is None


def test_reads_a_store_written_by_anemoi_datasets_create() -> None:
    """Written by the real tool (see fixtures/anemoi_create_source.py): values, grid and statistics agree."""
    from tests.datasets.fixtures.anemoi_create_source import source_dataset

    store = open_store(FIXTURES / "created_by_anemoi_datasets.zarr")
    meta = store.metadata
    assert meta.variables == ("msl", "t2m") and meta.frequency_s == 86400 and meta.date_count == 10
    assert meta.field_shape == (4, 5) and meta.statistics_missing == frozenset()
    source = source_dataset()
    data = np.asarray(store.data[...])
    for i, name in enumerate(meta.variables):
        expected = source[name].values.reshape(10, 1, -1).astype(np.float32)
        np.testing.assert_array_equal(data[:, i], expected)
        period = source[name].values[:8].astype(np.float32).astype(np.float64)  # statistics end 2020-01-08
        assert store.statistics["mean"][i] == pytest.approx(period.mean(), rel=1e-9)
    lat, lon = np.meshgrid(source.latitude.values, source.longitude.values, indexing="ij")
    np.testing.assert_array_equal(store.latitudes, lat.reshape(-1))
    np.testing.assert_array_equal(store.longitudes, lon.reshape(-1))


def test_monthly_stores_are_evenly_spaced_in_calendar_months(tmp_path: Path) -> None:
    path = write_synthetic_store(tmp_path / "m.zarr", grid=(4, 8), start="2020-01-01", end="2020-12-01",
                                 frequency="1mo", variables=("2t",))
    meta = read_metadata(path)
    assert meta.frequency_s == MONTH_S and meta.frequency == "1mo" and meta.date_count == 12
    edit_consolidated(path, lambda m: m[".zattrs"].pop("frequency"))  # the dates alone say: calendar months
    assert (read_metadata(path).frequency_s, read_metadata(path).frequency) == (MONTH_S, "1mo")


def test_a_fixed_interval_of_a_julian_month_is_not_calendar_months(tmp_path: Path) -> None:
    """anemoi-datasets writes 730.5 h as `43830m`; such a store's dates are exactly MONTH_S apart."""
    path = write_synthetic_store(tmp_path / "f.zarr", grid=(4, 8), start="2020-01-01", end="2020-12-31",
                                 frequency="43830m", variables=("2t",))
    assert json.loads((path / ".zattrs").read_text())["frequency"] == "43830m"
    store = open_store(path)
    meta = store.metadata
    assert (meta.frequency_s, meta.frequency, meta.date_count) == (MONTH_S, "43830m", 12)
    assert set(np.diff(store.dates.astype(np.int64))) == {MONTH_S}
    assert str(store.dates[1]) == "2020-01-31T10:30:00"
    assert meta.tendency_frequencies == ("43830m",) and store.tendency_statistics(MONTH_S) is not None
    golden = json.loads((GOLDEN / "store_errors.json").read_text())
    with pytest.raises(StoreError) as info:
        store.date_index("2020-02-01")
    assert str(info.value).replace(str(path), "<store>") == golden["no such date (43830m)"]
    dates = np.fromfile(path / "dates" / "0", dtype="<M8[s]")
    dates[3:] += np.timedelta64(60, "s")
    dates.tofile(path / "dates" / "0")
    with pytest.raises(StoreError) as info:
        read_metadata(path)
    assert str(info.value).replace(str(path), "<store>") == golden["dates not evenly spaced (43830m)"]


def test_variables_with_nans_come_from_the_has_nans_array(tmp_path: Path) -> None:
    path = write_synthetic_store(tmp_path / "n.zarr", grid=(4, 8), variables=("sst", "2t", "msl"),
                                 end="2020-01-02", nan_fraction=0.25, nan_variables=("sst", "msl"))
    assert read_metadata(path).variables_with_nans == frozenset({"sst", "msl"})
    assert read_metadata(FIXTURES / "anemoi_layout.zarr").variables_with_nans == frozenset()
    assert read_metadata(FIXTURES / "created_by_anemoi_datasets.zarr").variables_with_nans is None


# -- bad stores: one error each, messages golden-tested --------------------------------------------------


def _missing_data(store: Path) -> None:
    shutil.rmtree(store / "data")
    edit_consolidated(store, lambda m: [m.pop(k) for k in [k for k in m if k.startswith("data/")]])


def _wrong_dimension_order(store: Path) -> None:
    def edit(meta: dict) -> None:
        meta["data/.zattrs"] = {"_ARRAY_DIMENSIONS": ["cell", "variable", "ensemble", "time"]}
    edit_consolidated(store, edit)


def _transposed_shape(store: Path) -> None:
    def edit(meta: dict) -> None:
        meta["data/.zattrs"] = {}
        shape = meta["data/.zarray"]["shape"]
        meta["data/.zarray"]["shape"] = [shape[3], shape[1], shape[2], shape[0]]
    edit_consolidated(store, edit)


def _variables_mismatch(store: Path) -> None:
    edit_consolidated(store, lambda m: m[".zattrs"].update(variables=m[".zattrs"]["variables"][:-1]))


def _uneven_dates(store: Path) -> None:
    dates = np.fromfile(store / "dates" / "0", dtype="<M8[s]")
    dates[5:] += np.timedelta64(3600, "s")
    dates.tofile(store / "dates" / "0")


def _not_a_store(store: Path) -> None:
    shutil.rmtree(store)
    store.mkdir()


def _unreadable_chunk(store: Path) -> None:
    (store / "data" / "3.0.0.0").write_bytes(b"this is not a blosc chunk")


BAD_STORES = {
    "missing data": _missing_data,
    "wrong dimension order (names)": _wrong_dimension_order,
    "wrong dimension order (shape)": _transposed_shape,
    "variables attribute length": _variables_mismatch,
    "dates not evenly spaced": _uneven_dates,
    "not a store": _not_a_store,
}


def _message(store: Path, action) -> str:
    if action is _unreadable_chunk:
        with pytest.raises(StoreError) as info:
            open_store(store).read(3)
    else:
        with pytest.raises(StoreError) as info:
            read_metadata(store)
    return str(info.value).replace(str(store), "<store>")


@pytest.mark.parametrize("name", [*BAD_STORES, "unreadable chunk"])
def test_bad_store_errors_name_the_store_and_the_problem(name: str, store_copy: Path) -> None:
    action = BAD_STORES.get(name, _unreadable_chunk)
    action(store_copy)
    message = _message(store_copy, action)
    golden = json.loads((GOLDEN / "store_errors.json").read_text())
    if name == "unreadable chunk":  # the codec's own words follow; the start is ours
        assert message.startswith(golden[name]), message
    else:
        assert message == golden[name]


def test_missing_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        read_metadata(tmp_path / "nowhere.zarr")


def test_a_window_read_equals_date_by_date_reads_and_names_a_broken_date(store_copy: Path) -> None:
    store = open_store(store_copy)
    window = store.read_dates(slice(1, 8, 2))
    assert np.array_equal(window, np.stack([store.read(d) for d in (1, 3, 5, 7)]), equal_nan=True)
    _unreadable_chunk(store_copy)
    with pytest.raises(StoreError) as info:
        open_store(store_copy).read_dates(slice(1, 8, 2))
    golden = json.loads((GOLDEN / "store_errors.json").read_text())["unreadable chunk"]
    assert str(info.value).replace(str(store_copy), "<store>").startswith(golden)
