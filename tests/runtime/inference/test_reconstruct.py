"""`predict` and `evaluate` of an autoencoder: the reconstructions of consecutive states, scored per variable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import read_forecast, write_forecast
from anemoic.runtime.inference.predict import predict
from tests.runtime.training.tiny_run import TrainedRun, trained_autoencoder  # noqa: F401


def test_predict_writes_the_reconstructions_at_their_own_times(trained_autoencoder: TrainedRun,  # noqa: F811
                                                                tmp_path: Path) -> None:
    forecast = predict(str(trained_autoencoder.run_dir), "2020-01-22T06:00", 3, device="cpu")
    assert forecast.fields.shape == (3, 1, 128, 9)
    assert [str(d) for d in forecast.dates] == ["2020-01-22T06:00:00", "2020-01-22T12:00:00", "2020-01-22T18:00:00"]
    assert np.isfinite(forecast.fields).all()
    for name in ("recon.zarr", "recon.nc"):
        written = write_forecast(forecast, tmp_path / name)
        again = read_forecast(written)
        assert again.info["task"] == "autoencoder" and np.allclose(again.fields, forecast.fields)


def test_evaluate_scores_each_variable_next_to_its_stdev_and_climatology(trained_autoencoder: TrainedRun,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    forecast = predict(str(trained_autoencoder.run_dir), "2020-01-22T06:00", 4, device="cpu")
    path = write_forecast(forecast, tmp_path / "recon.nc")
    report = evaluate(str(path))
    assert report.startswith("Reconstruction of 4 states from 2020-01-22T06:00")
    header = next(line for line in report.splitlines() if line.startswith("variable"))
    assert header.split() == ["variable", "rmse", "stdev", "rmse/stdev", "climatology", "vs", "clim."]
    assert "persistence" not in report
    rows = {line.split()[0]: line.split() for line in report.splitlines()[5:] if line.strip()}
    assert set(rows) == set(forecast.variables)
    assert all(float(row[1]) > 0 and float(row[2]) > 0 for row in rows.values())


def test_reconstructing_beyond_the_store_is_one_line(trained_autoencoder: TrainedRun) -> None:  # noqa: F811
    with pytest.raises(RuntimeUserError) as caught:
        predict(str(trained_autoencoder.run_dir), "2020-01-25T12:00", 3, device="cpu")
    assert "beyond its last date" in str(caught.value)
