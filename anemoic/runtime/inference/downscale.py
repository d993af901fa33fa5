"""``predict`` and ``evaluate`` of a spatial downscaler: the fine fields of ``steps`` consecutive months.

``predict CKPT --date D --steps N`` downscales the coarse fields at D and the N - 1 store steps after it, each
from itself, and writes the fine grid's fields with their own valid times (no lead 0: the truth is the fine
store), as an autoencoder's reconstructions are written.  ``evaluate`` scores them against the fine store next
to the bilinear interpolation of the coarse store's fields, recomputed here from the coarse store named in
the file (``anemoic.geo.interpolation``, the matrix training used), and climatology: one row per variable,
with the model / bilinear ratio.
"""

from __future__ import annotations

import numpy as np
import torch

from anemoic.datasets.store import Store, StoreError, open_store
from anemoic.geo.interpolation import bilinear
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.forecast_io import Forecast
from anemoic.runtime.methods import Stream
from anemoic.runtime.training.climatology import Climatology
from anemoic.runtime.training.module import ForecastModule
from anemoic.runtime.training.report import format_report
from anemoic.runtime.training.scores import ScoreSums

TASK = "spatial_downscaler"  # Forecast.info["task"] of a file of downscaled fields


def downscale(module: ForecastModule, data: object, start: int, steps: int, device: torch.device,
              info: dict, seed: int) -> Forecast:
    """The fine fields (physical units) of the ``steps`` store dates from index ``start`` of the fine store."""
    plan, store = module.plan, data.store  # type: ignore[attr-defined]
    last = start + steps - 1
    if last >= len(store.dates):
        raise RuntimeUserError(f"error: downscaling {steps} states from {store.dates[start]} reads the stores to "
                               f"beyond the last date {store.dates[-1]}\nhint: choose an earlier --date or fewer "
                               "--steps")
    starts = np.arange(start, last + 1)
    try:
        coarse = np.array([data.source_index(store.dates[s]) for s in starts])  # type: ignore[attr-defined]
    except StoreError as exc:
        raise RuntimeUserError(f"error: {exc}\nhint: choose dates that both stores hold") from None
    pairs = data.pair_at(starts, coarse)  # type: ignore[attr-defined]
    batch = torch.stack([pairs[i] for i in range(len(starts))]).to(device)
    model = module.method.bind(module.model, module.method.generator(seed, Stream.FORECAST, start))
    result = module.task.validation_rollout(model, module.normalise(batch))
    fine = slice(data.source_size, None)  # type: ignore[attr-defined]
    fields = module.denormalise_output(result.predictions)[:, 0, :, fine].float().cpu().numpy()  # (N, E, G, V)
    weights = module.node_weights[fine].double().cpu().numpy()
    return Forecast(plan.indices.output, store.dates[starts], fields, np.asarray(store.latitudes),
                    np.asarray(store.longitudes), weights / weights.sum(),
                    {**info, "task": TASK, "lead_offsets": [0], "source_store": plan.source.dataset.path,
                     "interpolation": plan.source.interpolation})


def evaluate_downscaled(forecast: Forecast, store: Store, indices: list[int]) -> str:
    """The report of a file of downscaled fields against the fine store, next to the bilinear interpolation."""
    info = forecast.info
    source = open_store(info["source_store"])
    missing = [v for v in forecast.variables if v not in source.name_to_index]
    if missing:
        raise RuntimeUserError(f"error: the source store {source.path} has no variable {', '.join(missing)}")
    truth = _read(store, indices, forecast.dates)  # (N, E, G, V)
    coarse = _read(source, [source.name_to_index[v] for v in forecast.variables], forecast.dates)
    base = bilinear(source.latitudes, source.longitudes, forecast.latitudes, forecast.longitudes).apply(coarse)
    target = torch.from_numpy(truth).unsqueeze(1)  # (N, 1, E, G, V): N samples, one "lead"
    weights = torch.from_numpy(np.asarray(forecast.area_weight, dtype=np.float64)).float()
    members = forecast.fields.shape[1]
    scores = ScoreSums(1, len(forecast.variables), metrics=("rmse", "crps") if members > 1 else ("rmse",))
    scores.add("model", torch.from_numpy(forecast.fields).unsqueeze(1), target, weights)
    scores.add("bilinear", torch.from_numpy(base.astype(np.float32)).unsqueeze(1), target, weights)
    climatology = Climatology.from_store(store, info["train_start"], info["train_end"], indices)
    clim = torch.from_numpy(climatology.for_dates(forecast.dates)[:, None, None])  # (N, 1, 1, G, V)
    scores.add("climatology", clim.to(target).expand_as(target), target, weights)
    title = (f"{len(forecast.dates)} fine fields from {str(forecast.dates[0])[:10]} to {str(forecast.dates[-1])[:10]} "
             f"({info.get('plan_name', '?')}, plan {str(info['plan_hash'])[:12]}) verified against "
             f"{store.path.name}, next to the bilinear interpolation of {source.path.name}")
    step = int(info["timestep_s"])
    if members == 1:
        return format_report(scores, forecast.variables, step, title=title, offsets=(0,))
    return format_report(scores, forecast.variables, step, title=f"{title}: the mean of {members} members",
                         offsets=(0,)) + "\n" + format_report(
        scores, forecast.variables, step, metric="crps", title=f"The {members}-member ensemble's CRPS", offsets=(0,))


def _read(store: Store, indices: list[int], dates: np.ndarray) -> np.ndarray:
    lo, hi = min(indices), max(indices) + 1
    take = np.asarray(indices) - lo
    try:
        values = np.stack([store.read(store.date_index(str(d)), slice(lo, hi))[take] for d in dates])
    except StoreError as exc:
        raise RuntimeUserError(f"error: {exc}") from None
    return values.transpose(0, 2, 3, 1).astype(np.float64)  # (N, E, G, V)
