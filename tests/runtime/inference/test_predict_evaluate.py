"""predict writes physical fields (zarr and netCDF alike); evaluate scores them (golden text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anemoic.datasets.store import open_store
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import Forecast, read_forecast, write_forecast
from anemoic.runtime.inference.predict import predict
from anemoic.runtime.errors import RuntimeUserError
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import TrainedRun, trained_run, write_tiny_store  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"
OUTPUTS = ("z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp")


def _truth(store_path: Path, dates: np.ndarray) -> np.ndarray:
    store = open_store(store_path)
    index = [store.name_to_index[v] for v in OUTPUTS]
    return np.stack([store.read(store.date_index(str(d)))[index] for d in dates]).transpose(0, 2, 3, 1)


def test_predict_writes_the_same_forecast_as_zarr_and_netcdf(trained_run: TrainedRun) -> None:
    forecast = predict(str(trained_run.run_dir), "2020-01-22T06:00", 3)
    assert forecast.fields.shape == (4, 1, 128, len(OUTPUTS)) and forecast.variables == OUTPUTS
    assert [str(d) for d in forecast.dates] == ["2020-01-22T06:00:00", "2020-01-22T12:00:00",
                                                 "2020-01-22T18:00:00", "2020-01-23T00:00:00"]
    assert np.allclose(forecast.fields[0], _truth(trained_run.store, forecast.dates[:1])[0])  # lead 0: analysis
    assert np.all(np.isfinite(forecast.fields)) and np.isclose(forecast.area_weight.sum(), 1.0)
    for suffix in (".zarr", ".nc"):
        path = write_forecast(forecast, trained_run.directory / f"forecast{suffix}")
        again = read_forecast(path)
        assert again.variables == forecast.variables and np.array_equal(again.dates, forecast.dates)
        assert np.array_equal(again.fields, forecast.fields) and again.info == forecast.info
    assert evaluate(str(trained_run.directory / "forecast.zarr")) == evaluate(str(trained_run.directory / "forecast.nc"))


def test_evaluate_text_for_a_forecast_one_unit_off_everywhere(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    dates = np.array(["2020-01-22T00:00", "2020-01-22T06:00", "2020-01-22T12:00"], dtype="datetime64[s]")
    truth = _truth(store, dates)
    fields = truth.copy()
    fields[1:] += 1.0  # every forecast value exactly one unit off: model RMSE 1 for every variable and lead
    meta = open_store(store)
    info = {"initial_date": str(dates[0]), "steps": 2, "timestep_s": 21600, "checkpoint": "none",
            "plan_hash": "0" * 64, "store": str(store), "train_start": "2020-01-01T00:00:00",
            "train_end": "2020-01-20T18:00:00", "plan_name": "offset"}
    weights = np.full(meta.metadata.grid_size, 1.0 / meta.metadata.grid_size)
    path = write_forecast(Forecast(OUTPUTS, dates, fields, meta.latitudes, meta.longitudes, weights, info),
                          tmp_path / "offset.zarr")
    text = evaluate(str(path))
    assert all(line.split()[2] == "1" for line in text.splitlines()[5:-2])
    assert_golden(text, GOLDEN / "evaluate_offset.txt")


def test_forecast_format_comes_from_the_suffix(tmp_path: Path) -> None:
    with pytest.raises(RuntimeUserError, match=r"written as \.zarr or \.nc"):
        read_forecast(tmp_path)  # a directory with no suffix
