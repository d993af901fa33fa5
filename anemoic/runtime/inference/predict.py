"""``anemoi-runtime predict CKPT --date D --steps N -o forecast.zarr|.nc``.

A limited-area model reads its boundary store too (the forcing of every step, at the same valid times) and
writes its region's points only (the output mask).  A stretched-grid model writes every point of its cut-out
grid: the region's first, then the outer dataset's (the forecast's ``stretched`` record names both, the
number of region points and each outer point's index in the outer store; ``forecast_io`` labels each point).
The initial state is read from the plan's store at ``D`` (with the earlier
input steps the model needs); forcings of future steps come from the store
too, so the forecast must lie inside the store's dates.  Fields are written
in physical units.  An ensemble writes its members along the ensemble dimension (lead 0,
the analysis, once per member); their noise comes from a generator seeded by ``--seed``
(default: the plan's seed) and the initial date, so the same command writes the same members.
A temporal downscaler's ``D`` is its first input t: it reads its inputs (t and t + Δ) from the store and
writes the state at t (lead 0) and its first ``N`` targets, with what ``evaluate`` needs to compare them
with the linear interpolation between the inputs.  An autoencoder reconstructs the state at ``D`` and the
``N - 1`` after it, each from itself (``inference.reconstruct``); a spatial downscaler downscales them
(``inference.downscale``).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from anemoic.plan.kinds import Precision
from anemoic.plan.model import Plan
from anemoic.plan.windows import interpolation_weights
from anemoic.runtime.inference.downscale import TASK as DOWNSCALED
from anemoic.runtime.inference.downscale import downscale
from anemoic.runtime.inference.forecast_io import Forecast, write_forecast
from anemoic.runtime.inference.loading import load_trained
from anemoic.runtime.inference.reconstruct import TASK as RECONSTRUCTION
from anemoic.runtime.inference.reconstruct import reconstruct
from anemoic.runtime.methods import Stream
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.report import format_lead


AUTOCAST: dict[Precision, torch.dtype | None] = {"32": None, "bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
"""The autocast type of each training precision, which a forecast on a GPU runs under."""


def resolve_device(device: str) -> torch.device:
    """"auto": the first CUDA GPU when one is visible, else the CPU; "cuda" without one is a user error."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeUserError("error: --device cuda, but no CUDA GPU is visible here\n"
                               "hint: use --device cpu (or auto, which picks a GPU when there is one)")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


@torch.no_grad()
def predict(checkpoint: str, date: str, steps: int, device: str = "auto", seed: int | None = None,
            boundary: str | None = None) -> Forecast:
    """The forecast in physical units; on a GPU the model runs under its training precision's autocast.
    ``boundary``: a store on the boundary's grid that forces a limited-area model instead of its training one."""
    if steps < 1:
        raise RuntimeUserError(f"error: --steps must be at least 1, got {steps}")
    try:
        np.datetime64(date, "s")
    except ValueError:
        raise RuntimeUserError(f"error: --date {date!r} is not a date; write it as 2020-01-21 or "
                               "2020-01-21T06:00") from None
    target = resolve_device(device)
    module, parts, path, lineage = load_trained(checkpoint)
    module.to(target)
    plan, data = module.plan, parts.data
    if boundary is not None:
        if data.boundary is None or not plan.boundary.forced:  # type: ignore[union-attr]
            raise RuntimeUserError("error: --boundary forces a limited-area model's boundary, and this checkpoint's "
                                   "model has none (its plan has no `output_mask` naming a region)")
        data.boundary.read_from(boundary)
    store = data.store
    start = store.date_index(date)
    task = module.task
    if plan.task.kind == "spatial_downscaler":  # the fine fields of `steps` dates from `date`, each from itself
        return downscale(module, data, start, steps, target, _info(plan, path, lineage, str(store.dates[start]), steps),
                         plan.seed if seed is None else seed)
    if not task.has_lead_times:  # an autoencoder: the reconstructions of `steps` states from `date`
        return reconstruct(module, data, start, steps, target, _info(plan, path, lineage, str(store.dates[start]),
                                                                    steps))
    if steps > task.validation_steps and plan.task.kind == "temporal_downscaler":
        raise RuntimeUserError(f"error: --steps {steps}, but this temporal downscaler predicts "
                               f"{task.validation_steps} state(s) between its inputs\n"
                               f"hint: use --steps {task.validation_steps} (or fewer: its first targets)")
    length = type(task).forecast_window(plan.task, steps)
    initial = task.initial_position()  # the newest input of a forecaster, the first input (t) of a downscaler
    first = start - initial * data.step
    last = first + (length - 1) * data.step
    if first < 0 or last >= len(store.dates):
        step = np.timedelta64(plan.task.timestep_s, "s")
        when = store.dates[start]
        needed = f"{when - initial * step} to {when + (length - 1 - initial) * step}"
        raise RuntimeUserError(
            f"error: a {steps}-step forecast from {when} reads inputs and forcings from the store for {needed}, "
            f"but {plan.dataset.path} holds {store.dates[0]} to {store.dates[-1]}\n"
            "hint: choose another --date, or fewer --steps, so that the forecast stays inside the store")
    window = data.forecast_window(first, length)  # a limited-area model's: with the boundary store's states
    batch = window[0].unsqueeze(0).to(target)
    half = AUTOCAST[plan.training.precision] if target.type == "cuda" else None
    autocast = torch.autocast("cuda", dtype=half) if half is not None else contextlib.nullcontext()
    model = module.method.bind(module.model, module.method.generator(plan.seed if seed is None else seed,
                                                                     Stream.FORECAST, start))
    with autocast:
        states = task.validation_rollout(model, module.normalise(batch), steps).predictions
    forecast = module.on_output_grid(module.denormalise_output(states)[0])  # (steps, E, G, V_out): E members
    initial_state = module.on_output_grid(batch[0, initial][..., task.routing.output_from_data.to(batch.device)])
    analysis = initial_state.unsqueeze(0).expand(1, forecast.shape[1], -1, -1)  # lead 0, per member
    fields = torch.cat([analysis, forecast], dim=0).float().cpu().numpy()
    times = np.arange(length)[task.target_times(steps)]
    dates = window.dates(0)[[initial, *times]]
    info = {**_info(plan, path, lineage, str(dates[0]), steps),
            "lead_offsets": [int(o) for o in task.lead_offsets(steps)]}
    if data.boundary is not None and not plan.boundary.forced:  # a stretched grid: both datasets, region first
        info["stretched"] = {"region": plan.dataset.name, "points": plan.dataset.grid_size,
                             "outer": plan.boundary.dataset.name, "outer_store": plan.boundary.dataset.path,
                             "outer_index": [int(i) for i in data.boundary.grid.boundary_index]}
    elif data.boundary is not None:  # evaluate says what it scored and what was forced
        info["output_mask"] = {"region": plan.dataset.name, "points": plan.dataset.grid_size,
                               "boundary": plan.boundary.dataset.name,
                               "boundary_points": len(data.boundary.grid.boundary_index),
                               "boundary_store": str(data.boundary.store.path)}
    if plan.task.kind == "temporal_downscaler":  # evaluate compares it with the interpolation between its inputs
        info["interpolation"] = {"input_dates": [str(d) for d in window.dates(0)[list(plan.task.input_offsets)]],
                                 "weights": [list(row) for row in interpolation_weights(plan.task)[:steps]]}
    points = plan.output_points  # the grid's points written out: a limited-area model's region, else all
    return Forecast(plan.indices.output, dates, fields, np.asarray(data.latitudes[:points]),
                    np.asarray(data.longitudes[:points]), module.node_weights.double().cpu().numpy(), info)


def _info(plan: Plan, path: object, lineage: dict, initial: str, steps: int) -> dict:
    """Where a forecast came from: what ``evaluate`` needs besides the fields."""
    return {"initial_date": initial, "steps": steps, "timestep_s": plan.task.timestep_s,
            "checkpoint": str(path), "plan_hash": lineage["plan_hash"], "store": plan.dataset.path,
            "train_start": plan.dataset.train.start, "train_end": plan.dataset.train.end, "plan_name": plan.name}


def predict_command(checkpoint: str, *, date: str, steps: int, output: str, device: str = "auto",
                    seed: int | None = None, boundary: str | None = None) -> int:
    forecast = predict(checkpoint, date, steps, device, seed, boundary)
    written = write_forecast(forecast, output)
    if forecast.info.get("task") == DOWNSCALED:
        print(f"wrote {written}: {len(forecast.variables)} variables on the fine grid, {steps} state(s) from "
              f"{forecast.info['initial_date']}, downscaled from {forecast.info['source_store']}")
        return 0
    if forecast.info.get("task") == RECONSTRUCTION:
        print(f"wrote {written}: {len(forecast.variables)} variables, the reconstructions of {steps} state(s) "
              f"from {forecast.info['initial_date']}")
        return 0
    leads = format_lead(forecast.info["timestep_s"] * forecast.info["lead_offsets"][-1])
    members = forecast.fields.shape[1]
    print(f"wrote {written}: {len(forecast.variables)} variables, {steps} steps to {leads} "
          f"from {forecast.info['initial_date']}" + (f", {members} ensemble members" if members > 1 else ""))
    return 0
