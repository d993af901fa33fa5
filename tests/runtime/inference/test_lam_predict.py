"""A limited-area model's checkpoint: ``predict`` reads the boundary store for the forcing, writes the region
alone, and reproduces the validation forecast of training bit for bit (CPU), from the training checkpoint and
from its inference checkpoint; ``evaluate`` scores the region alone and says so (golden text)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from anemoic.datasets.store import open_store
from anemoic.datasets.synth import write_synthetic_store
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.plan.errors import UserError
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.evaluate import evaluate
from anemoic.runtime.inference.forecast_io import Forecast, write_forecast
from anemoic.runtime.inference.loading import load_training
from anemoic.runtime.inference.predict import predict
from anemoic.runtime.methods import Stream
from tests.golden import assert_golden
from tests.runtime.lam import TrainedRun, lam_plan, trained_lam, write_globe, write_region  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"
SAMPLE = 3  # a validation sample of the run


@torch.no_grad()
def _validation_forecast(run: TrainedRun) -> tuple[str, np.ndarray]:
    """(initial date, the physical forecast (R, E, G_region, V_out)) of validation sample SAMPLE as training's
    validation makes it."""
    module, parts, *_ = load_training(run.run_dir)
    dataset = parts.data.dataset("validate")
    batch = dataset[SAMPLE].unsqueeze(0)
    model = module.bound_model(Stream.VALIDATE, SAMPLE)
    states = module.task.validation_rollout(model, module.normalise(batch)).predictions
    initial = dataset.dates(SAMPLE)[module.task.initial_position()]
    return str(initial), module.on_output_grid(module.denormalise_output(states))[0].numpy()


def test_predict_reproduces_the_validation_forecast_bit_for_bit(trained_lam: TrainedRun) -> None:
    date, expected = _validation_forecast(trained_lam)
    region = open_store(trained_lam.store)
    for checkpoint in (trained_lam.run_dir, _converted(trained_lam)):
        forecast = predict(str(checkpoint), date, expected.shape[0], device="cpu")
        assert forecast.fields.shape[2] == region.metadata.grid_size  # the region alone
        np.testing.assert_array_equal(forecast.latitudes, region.latitudes)
        assert np.array_equal(forecast.fields[1:], expected)
        assert np.isclose(forecast.area_weight.sum(), 1.0)
    assert forecast.info["output_mask"] == {"region": "pacific", "points": 252, "boundary": "globe",
                                            "boundary_points": 582,
                                            "boundary_store": str(trained_lam.directory / "globe.zarr")}
    metadata = json.loads((_converted(trained_lam) / "metadata.json").read_text())
    globe = open_store(trained_lam.directory / "globe.zarr")
    assert metadata["grid"]["size"] == 834  # the cut-out grid the model was trained on
    assert metadata["normaliser"]["z_500"]["offset"] == pytest.approx(float(region.statistics["mean"][0]))
    assert metadata["normaliser"]["z_500"]["boundary"]["offset"] == pytest.approx(float(globe.statistics["mean"][0]))
    path = write_forecast(forecast, trained_lam.directory / "lam-forecast.zarr")
    text = evaluate(str(path))
    assert "scored over the region `pacific` (252 points); the boundary (582 points of `globe`) is forced, " \
           "not scored" in text.splitlines()[1]


def _converted(run: TrainedRun) -> Path:
    output = run.directory / "inference"
    if not output.exists():
        assert convert_command([str(run.run_dir)], output=str(output)) == 0
    (found,) = [p for p in output.iterdir() if not p.name.startswith(".")]
    return found


def test_a_forecast_window_whose_boundary_state_is_missing_is_refused(tmp_path: Path) -> None:
    region, gappy = write_region(tmp_path), write_globe(tmp_path, missing_dates=["2020-01-22T12:00"])
    data = AnemoicDataModule(lam_plan(region, gappy, tmp_path / "run"))
    first = data.store.date_index("2020-01-22T00:00")
    with pytest.raises(RuntimeUserError, match=r"dates missing in globe \(2020-01-22T12\)"):
        data.forecast_window(first, 4)
    assert len(data.forecast_window(first + 3, 4)) == 1  # from 18:00 on


def test_evaluate_says_it_scores_the_region_alone(tmp_path: Path) -> None:
    store = write_region(tmp_path)
    region = open_store(store)
    variables = ("z_500", "2t")
    dates = np.array(["2020-01-22T00:00", "2020-01-22T06:00"], dtype="datetime64[s]")
    index = [region.name_to_index[v] for v in variables]
    truth = np.stack([region.read(region.date_index(str(d)))[index] for d in dates]).transpose(0, 2, 3, 1)
    fields = truth.copy()
    fields[1:] += 1.0
    info = {"initial_date": str(dates[0]), "steps": 1, "timestep_s": 21600, "checkpoint": "none",
            "plan_hash": "0" * 64, "store": str(store), "train_start": "2020-01-01T00:00:00",
            "train_end": "2020-01-20T18:00:00", "plan_name": "lam", "lead_offsets": [1],
            "output_mask": {"region": "pacific", "points": region.metadata.grid_size, "boundary": "globe",
                            "boundary_points": 582, "boundary_store": "globe.zarr"}}
    weights = np.full(region.metadata.grid_size, 1.0 / region.metadata.grid_size)
    path = write_forecast(Forecast(variables, dates, fields, region.latitudes, region.longitudes, weights, info),
                          tmp_path / "lam.zarr")
    assert_golden(evaluate(str(path)), GOLDEN / "evaluate_lam.txt")


def test_predict_forces_the_boundary_from_another_store_on_its_grid(trained_lam: TrainedRun, tmp_path: Path) -> None:
    """``--boundary``: a store of the boundary's grid (e.g. a global model's forecasts) forces the limited-area
    model instead of the analyses it was trained on; the same data in another store forecasts bit for bit the
    same, other data another forecast; another grid, or a model without a boundary, is a one-line refusal."""
    date, expected = _validation_forecast(trained_lam)
    same = write_globe(tmp_path, name="same.zarr", seed=5)  # the trained boundary's data, written again
    other = write_globe(tmp_path, name="other.zarr", seed=11)
    forced = predict(str(trained_lam.run_dir), date, expected.shape[0], device="cpu", boundary=str(same))
    assert np.array_equal(forced.fields[1:], expected)
    assert forced.info["output_mask"]["boundary_store"] == str(same)
    changed = predict(str(trained_lam.run_dir), date, expected.shape[0], device="cpu", boundary=str(other))
    assert not np.array_equal(changed.fields[1:], expected)
    assert np.array_equal(changed.fields[0], forced.fields[0])  # the region's analysis is the region store's
    coarse = write_synthetic_store(tmp_path / "coarse.zarr", grid=(9, 18), end="2020-01-25T18:00")
    with pytest.raises(UserError, match=r"is not on the grid of the boundary `globe` the model was trained "
                                        r"with \(162 points against 648\)"):
        predict(str(trained_lam.run_dir), date, 1, device="cpu", boundary=str(coarse))
    with pytest.raises(UserError, match=r"few.zarr: lacks t_500, .*, msl, tp, which the boundary `globe` forces"):
        predict(str(trained_lam.run_dir), date, 1, device="cpu",
                boundary=str(write_globe(tmp_path, name="few.zarr", variables=("z_500", "lsm"))))
