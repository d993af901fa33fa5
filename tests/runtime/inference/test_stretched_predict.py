"""A stretched-grid model's checkpoint: ``predict`` writes every point of the cut-out grid (the region's first,
then the outer dataset's, named in the forecast's ``stretched`` record and labelled per point) and reproduces the
validation forecast of training bit for bit (CPU), from the training checkpoint and from its inference
checkpoint; ``evaluate`` scores both datasets, together and each alone, the outer points against their own store,
and says so (golden text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
import zarr

from anemoic.datasets.store import open_store
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import Forecast, write_forecast
from anemoic.runtime.inference.loading import load_training
from anemoic.runtime.inference.predict import predict
from anemoic.runtime.methods import Stream
from tests.golden import assert_golden
from tests.runtime.lam import TrainedRun, trained_stretched, write_globe, write_region  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"
SAMPLE = 3


@torch.no_grad()
def test_predict_writes_both_datasets_and_reproduces_the_validation_forecast(trained_stretched: TrainedRun) -> None:
    module, parts, *_ = load_training(trained_stretched.run_dir)
    dataset = parts.data.dataset("validate")
    model = module.bound_model(Stream.VALIDATE, SAMPLE)
    states = module.task.validation_rollout(model, module.normalise(dataset[SAMPLE].unsqueeze(0))).predictions
    expected = module.denormalise_output(states)[0].numpy()
    date = str(dataset.dates(SAMPLE)[module.task.initial_position()])
    inference = trained_stretched.directory / "inference"
    assert convert_command([str(trained_stretched.run_dir)], output=str(inference)) == 0
    (converted,) = [p for p in inference.iterdir() if not p.name.startswith(".")]
    for checkpoint in (trained_stretched.run_dir, converted):  # the training checkpoint and the inference one
        forecast = predict(str(checkpoint), date, expected.shape[0], device="cpu")
        assert forecast.fields.shape[2] == 834  # every point: the region's 252, then 582 of the globe
        assert np.array_equal(forecast.fields[1:], expected)
        np.testing.assert_array_equal(forecast.latitudes, parts.data.latitudes)
    record = forecast.info["stretched"]
    assert (record["region"], record["points"], record["outer"], len(record["outer_index"])) == \
        ("pacific", 252, "globe", 582)
    assert np.isclose(forecast.area_weight.sum(), 1.0)
    path = write_forecast(forecast, trained_stretched.directory / "stretched-forecast.nc")
    with xr.open_dataset(path, engine="netcdf4") as written:  # each point's dataset, for a user to select by
        labels = written["dataset"].values
    assert list(labels[:252]) == ["pacific"] * 252 and list(labels[252:]) == ["globe"] * 582
    zarr_path = write_forecast(forecast, trained_stretched.directory / "stretched-forecast.zarr")
    index = np.asarray(zarr.open_group(str(zarr_path), mode="r")["dataset_index"][:])
    assert index.sum() == 582 and not index[:252].any()
    text = evaluate(str(path))
    assert "scored over both datasets: the region `pacific` (252 points) and `globe` (582 points)" in text
    assert "Over `pacific` alone" in text and "Over `globe` alone" in text


def test_evaluate_scores_each_dataset_against_its_own_store(tmp_path: Path) -> None:
    region, globe = open_store(write_region(tmp_path)), open_store(write_globe(tmp_path, seed=5))
    variables = ("z_500", "2t")
    dates = np.array(["2020-01-22T00:00", "2020-01-22T06:00"], dtype="datetime64[s]")
    outer_index = np.arange(0, globe.metadata.grid_size, 7)

    def fields(store, points=slice(None)):
        index = [store.name_to_index[v] for v in variables]
        return np.stack([store.read(store.date_index(str(d)))[index][..., points] for d in dates]).transpose(0, 2, 3, 1)

    truth = np.concatenate([fields(region), fields(globe, outer_index)], axis=2)
    forecast = truth.copy()
    forecast[1:, :, : region.metadata.grid_size] += 1.0  # the region off by 1, the outer dataset off by 3
    forecast[1:, :, region.metadata.grid_size:] += 3.0
    info = {"initial_date": str(dates[0]), "steps": 1, "timestep_s": 21600, "checkpoint": "none",
            "plan_hash": "0" * 64, "store": str(region.path), "train_start": "2020-01-01T00:00:00",
            "train_end": "2020-01-20T18:00:00", "plan_name": "stretched", "lead_offsets": [1],
            "stretched": {"region": "pacific", "points": region.metadata.grid_size, "outer": "globe",
                          "outer_store": str(globe.path), "outer_index": [int(i) for i in outer_index]}}
    points = truth.shape[2]
    lat = np.concatenate([region.latitudes, globe.latitudes[outer_index]])
    lon = np.concatenate([region.longitudes, globe.longitudes[outer_index]])
    path = write_forecast(Forecast(variables, dates, forecast, lat, lon, np.full(points, 1.0 / points), info),
                          tmp_path / "stretched.zarr")
    text = evaluate(str(path))
    assert_golden(text, GOLDEN / "evaluate_stretched.txt")


def test_a_stretched_grid_has_no_boundary_to_force(trained_stretched: TrainedRun) -> None:
    with pytest.raises(RuntimeUserError, match=r"^error: --boundary forces a limited-area model's boundary, and this "
                                               r"checkpoint's model has none"):
        predict(str(trained_stretched.run_dir), "2020-01-22", 1, device="cpu",
                boundary=str(trained_stretched.directory / "globe.zarr"))
