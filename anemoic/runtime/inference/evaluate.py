"""``anemoi-runtime evaluate FORECAST [--store PATH]``: RMSE per variable and lead time.

Verified against the store's fields at the valid times, next to persistence
(the forecast's initial state held constant; for a temporal downscaler the linear interpolation between
its inputs, read from the store) and climatology (training-period
mean of the same calendar month and hour), with the same area weights as
training; printed by the same report function as the end of ``exec``.  A forecast
of a limited-area model holds its region alone, which is what is scored (the report says so); a stretched
grid's holds both datasets, scored together and each alone, the outer points against their own store. A forecast
of several members is scored as an ensemble: the ensemble mean's RMSE, then its
CRPS next to the baselines' and its spread/skill ratio.  An autoencoder's reconstructions are scored per
variable next to the variable's standard deviation and climatology (``inference/reconstruct.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from anemoic.datasets.store import Store, open_store
from anemoic.runtime.inference.downscale import TASK as DOWNSCALED
from anemoic.runtime.inference.downscale import evaluate_downscaled
from anemoic.runtime.inference.forecast_io import Forecast, read_forecast
from anemoic.runtime.inference.reconstruct import TASK as RECONSTRUCTION
from anemoic.runtime.inference.reconstruct import evaluate_reconstruction
from anemoic.runtime.training.climatology import Climatology
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.report import ENSEMBLE_REPORT, format_report
from anemoic.runtime.training.scores import ScoreSums


def evaluate(forecast_path: str, store_path: str | None = None) -> str:
    forecast = read_forecast(forecast_path)
    info = forecast.info
    store = open_store(store_path or info["store"])
    missing = [v for v in forecast.variables if v not in store.name_to_index]
    if missing:
        raise RuntimeUserError(f"error: the store {store.path} has no variable {', '.join(missing)} to verify against")
    indices = [store.name_to_index[v] for v in forecast.variables]
    if info.get("task") == DOWNSCALED:  # a spatial downscaler's fine fields, next to the bilinear interpolation
        return evaluate_downscaled(forecast, store, indices)
    if info.get("task") == RECONSTRUCTION:  # an autoencoder's reconstructions: no lead time, no persistence
        return evaluate_reconstruction(forecast, store, indices)
    truth, clim = _truth(store, indices, forecast.dates[1:], info)
    stretched = info.get("stretched")
    if stretched:  # a stretched grid: the outer dataset's points follow the region's, read from their own store
        outer = open_store(stretched["outer_store"])
        at = np.asarray(stretched["outer_index"])
        more, more_clim = _truth(outer, [outer.name_to_index[v] for v in forecast.variables], forecast.dates[1:],
                                 info, at)
        truth, clim = np.concatenate([truth, more], axis=2), np.concatenate([clim, more_clim], axis=2)
    leads = len(forecast.dates) - 1
    members = forecast.fields.shape[1]
    offsets = tuple(info.get("lead_offsets") or range(1, leads + 1))  # a downscaler's targets: from its first input
    title = (f"Forecast from {str(info['initial_date'])[:16]} ({info.get('plan_name', '?')}, plan "
             f"{str(info['plan_hash'])[:12]}) verified against {store.path.name}")
    mask = info.get("output_mask")
    if mask:  # a limited-area model: its forecast holds the region alone
        title += (f"\nscored over the region `{mask['region']}` ({mask['points']} points); the boundary "
                  f"({mask['boundary_points']} points of `{mask['boundary']}`) is forced, not scored")
    if stretched:
        title += (f" and {Path(stretched['outer_store']).name}\nscored over both datasets: the region "
                  f"`{stretched['region']}` ({stretched['points']} points) and `{stretched['outer']}` "
                  f"({len(stretched['outer_index'])} points); nothing is forced (a stretched grid)")
    report = _report(forecast, _scores(forecast, store, truth, clim, indices, slice(None)), title, offsets)
    if stretched:
        n = int(stretched["points"])
        for name, points in ((stretched["region"], slice(0, n)), (stretched["outer"], slice(n, None))):
            report += "\n" + _report(forecast, _scores(forecast, store, truth, clim, indices, points),
                                     f"Over `{name}` alone", offsets)
    return report


def _truth(store: Store, indices: list[int], dates: np.ndarray, info: dict,
           points: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The store's fields ``(R, E, G, V)`` at ``dates`` and its training-period climatology ``(R, 1, G, V)``;
    ``points``: the grid points taken (a stretched grid's outer dataset)."""
    lo, hi = min(indices), max(indices) + 1
    take = np.asarray(indices) - lo
    truth = np.stack([store.read(store.date_index(str(d)), slice(lo, hi))[take] for d in dates])
    truth = truth.transpose(0, 2, 3, 1)  # (R, E, G, V)
    climatology = Climatology.from_store(store, info["train_start"], info["train_end"], indices)
    clim = climatology.for_dates(dates)[:, None]  # (R, 1, G, V)
    if points is not None:
        truth, clim = truth[:, :, points], clim[:, :, points]
    return truth, clim


def _scores(forecast: Forecast, store: Store, truth: np.ndarray, clim: np.ndarray, indices: list[int],
            points: slice) -> ScoreSums:
    """The forecast, persistence (or a downscaler's interpolation) and climatology over ``points``."""
    info = forecast.info
    target = torch.from_numpy(np.ascontiguousarray(truth[:, :, points])).unsqueeze(0)
    weights = torch.from_numpy(np.asarray(forecast.area_weight, dtype=np.float64)[points]).float()
    fields = forecast.fields[:, :, points]
    members = forecast.fields.shape[1]
    scores = ScoreSums(len(forecast.dates) - 1, len(forecast.variables),
                       metrics=ENSEMBLE_REPORT if members > 1 else ("rmse",))
    scores.add("model", torch.from_numpy(np.ascontiguousarray(fields[1:])).unsqueeze(0), target, weights)
    if "interpolation" in info:  # a temporal downscaler: the linear interpolation between its inputs
        lo, hi = min(indices), max(indices) + 1
        take = np.asarray(indices) - lo
        inputs = np.stack([store.read(store.date_index(d), slice(lo, hi))[take] for d in
                           info["interpolation"]["input_dates"]]).transpose(0, 2, 3, 1)  # (T_in, E, G, V)
        linear = np.stack([sum(w * inputs[t] for t, w in enumerate(row) if w)  # the two inputs around it
                           for row in info["interpolation"]["weights"]])
        scores.add("linear", torch.from_numpy(np.ascontiguousarray(linear[:, :1, points])).unsqueeze(0), target,
                   weights)
    else:
        persistence = np.broadcast_to(fields[:1, :1], fields[1:, :1].shape)  # the analysis
        scores.add("persistence", torch.from_numpy(np.ascontiguousarray(persistence)).unsqueeze(0), target, weights)
    scores.add("climatology", torch.from_numpy(np.ascontiguousarray(clim[:, :, points])).expand_as(target[0])
               .unsqueeze(0), target, weights)
    return scores


def _report(forecast: Forecast, scores: ScoreSums, title: str, offsets: tuple[int, ...]) -> str:
    members = forecast.fields.shape[1]
    timestep = int(forecast.info["timestep_s"])
    if members == 1:
        return format_report(scores, forecast.variables, timestep, title=title, offsets=offsets)
    report = format_report(scores, forecast.variables, timestep, title=f"{title}: the mean of {members} members",
                           offsets=offsets)
    return report + "\n" + format_report(scores, forecast.variables, timestep, metric="crps",
                                         title=f"The {members}-member ensemble's CRPS", offsets=offsets)


def evaluate_command(forecast: str, *, store: str | None) -> int:
    print(evaluate(forecast, store), end="")
    return 0
