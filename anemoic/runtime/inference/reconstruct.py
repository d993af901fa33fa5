"""``predict`` and ``evaluate`` of an autoencoder: the reconstruction of ``steps`` consecutive states.

An autoencoder has no lead time: ``predict CKPT --date D --steps N`` reconstructs the states at D and the
N - 1 store steps after it, each from itself, and writes them in the forecast format with their own valid
times (no lead 0: the truth is the store).  ``evaluate`` scores them as the end-of-run report does: per
variable, the RMSE next to the variable's standard deviation and climatology, with no persistence.
"""

from __future__ import annotations

import numpy as np
import torch

from anemoic.datasets.store import Store
from anemoic.runtime.data.dataset import WindowDataset
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.forecast_io import Forecast
from anemoic.runtime.training.climatology import Climatology
from anemoic.runtime.training.module import ForecastModule
from anemoic.runtime.training.report import format_reconstruction
from anemoic.runtime.training.scores import ScoreSums

TASK = "autoencoder"  # Forecast.info["task"] of a file of reconstructions


def reconstruct(module: ForecastModule, data: object, start: int, steps: int, device: torch.device,
                info: dict) -> Forecast:
    """The reconstructions (physical units) of the ``steps`` states from store index ``start``."""
    plan, store = module.plan, data.store  # type: ignore[attr-defined]
    step = data.step  # type: ignore[attr-defined]
    last = start + (steps - 1) * step
    if last >= len(store.dates):
        raise RuntimeUserError(f"error: reconstructing {steps} states from {store.dates[start]} reads the store to "
                               f"beyond its last date {store.dates[-1]}\nhint: choose an earlier --date or fewer "
                               "--steps")
    starts = np.arange(start, last + 1, step)
    window = WindowDataset(str(store.path), data.channels, starts, step=step, length=1)  # type: ignore[attr-defined]
    batch = torch.stack([window[i] for i in range(len(starts))]).to(device)
    result = module.task.validation_rollout(module.model, module.normalise(batch))
    fields = module.denormalise_output(result.predictions)[:, 0].float().cpu().numpy()  # (N, E, G, V)
    dates = np.asarray([window.dates(i)[0] for i in range(len(starts))])
    return Forecast(plan.indices.output, dates, fields, np.asarray(store.latitudes), np.asarray(store.longitudes),
                    module.node_weights.double().cpu().numpy(), {**info, "task": TASK})


def evaluate_reconstruction(forecast: Forecast, store: Store, indices: list[int]) -> str:
    """The report of a file of reconstructions against the store."""
    info = forecast.info
    lo, hi = min(indices), max(indices) + 1
    take = np.asarray(indices) - lo
    truth = np.stack([store.read(store.date_index(str(d)), slice(lo, hi))[take] for d in forecast.dates])
    target = torch.from_numpy(truth.transpose(0, 2, 3, 1)).unsqueeze(1)  # (N, 1, E, G, V): N samples, one "lead"
    weights = torch.from_numpy(np.asarray(forecast.area_weight, dtype=np.float64)).float()
    scores = ScoreSums(1, len(forecast.variables), metrics=("rmse",))
    scores.add("model", torch.from_numpy(forecast.fields).unsqueeze(1), target, weights)
    climatology = Climatology.from_store(store, info["train_start"], info["train_end"], indices)
    clim = torch.from_numpy(climatology.for_dates(forecast.dates)[:, None, None])  # (N, 1, 1, G, V)
    scores.add("climatology", clim.to(target).expand_as(target), target, weights)
    stdev = tuple(float(store.statistics["stdev"][i]) for i in indices)
    title = (f"Reconstruction of {len(forecast.dates)} states from {str(info['initial_date'])[:16]} "
             f"({info.get('plan_name', '?')}, plan {str(info['plan_hash'])[:12]}) verified against {store.path.name}")
    return format_reconstruction(scores, forecast.variables, stdev, title=title)
