"""The task: what is predicted (its kind), how it is trained (its method), its timestep, input steps, rollout
schedule, loss and validation metrics."""

from __future__ import annotations

from dataclasses import dataclass, replace

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink, Span, did_you_mean
from anemoic.compiler.typecheck import spatial, unsupported
from anemoic.compiler.typecheck.context import Context, Settings
from anemoic.compiler.typecheck.downscale import check_window, forecast_without_targets
from anemoic.compiler.typecheck.method import CheckedMethod, check_method
from anemoic.compiler.typecheck.settings import Setting, choice, keys, read_settings
from anemoic.plan import kinds
from anemoic.plan.model import RolloutPlan, TaskPlan
from anemoic.plan.units import format_duration

KINDS = {"forecast": "forecaster", "temporal_downscale": "temporal_downscaler",  # word -> plan kind (TASK_KINDS)
         "autoencode": "autoencoder", "spatial_downscale": "spatial_downscaler"}
NO_TIME = ("timestep", "inputs", "targets", "rollout", "validation_rollout")  # settings an autoencoder does not have


def _steps(value: v.Value, sink: Sink, what: str) -> int | None:
    """``2 steps`` or ``2``."""
    return coerce.integer(value.count if isinstance(value, v.StepsV) else value, sink, what, minimum=1)


TABLE = (
    Setting("inputs", "task.multistep_input", _steps),
    Setting("validation_rollout", "task.rollout.validation", _steps),
    Setting("prediction", "task.prediction", choice(kinds.PREDICTIONS)),
)
SETTINGS = keys(TABLE, "method", "timestep", "rollout", "loss", "members", "metrics", "targets",
               "output_mask")  # output_mask: read with the graph (typecheck.limited_area)


@dataclass(frozen=True)
class CheckedTask:
    plan: TaskPlan
    loss: v.Value  # the loss expression, read by the loss checker
    metrics: tuple[str, ...]


def _kind(ctx: Context, kind_name: v.Symbol) -> str | None:
    """The plan kind of the task word; None after a diagnostic (a refusal of the grid, or an unknown word)."""
    if kind_name.name in unsupported.TASKS:
        unsupported.refuse(ctx, unsupported.TASKS[kind_name.name], kind_name.span)
        return None
    if kind_name.name not in KINDS:
        known = [*KINDS, *unsupported.TASKS]
        hint = unsupported.FORMER_TASKS.get(kind_name.name) or \
            did_you_mean(kind_name.name, known, f"choose one of {', '.join(known)}")
        ctx.sink.error("E0801", f"`{kind_name.name}` is not a kind of task", kind_name.span, hint=hint)
        return None
    return KINDS[kind_name.name]


def _method(ctx: Context, settings: Settings) -> CheckedMethod | None:
    method = check_method(ctx, settings.get("method"))
    if method is not None and method.word in unsupported.METHODS:
        assert method.span is not None
        unsupported.refuse(ctx, unsupported.METHODS[method.word], method.span)
        return None
    if "members" in settings:
        ctx.sink.error("E0804", "`members` is a setting of the ensemble method, not of the task",
                       settings["members"].span, hint="write `method = ensemble(members = 4)`")
    return method


def check_task(ctx: Context, kind_name: v.Symbol, settings: Settings, span: Span,
               frequency_s: int | None) -> CheckedTask | None:
    """``frequency_s``: the dataset's, or None when it could not be checked (then the timestep is not compared).

    The task word and the method are checked independently (the task x method grid refuses each on its own)."""
    kind = _kind(ctx, kind_name)
    method = _method(ctx, settings)
    if kind is None:
        return None
    metrics = _metrics(ctx, settings.get("metrics"), method)
    if settings.missing("loss"):
        ctx.sink.error("E0806", "the task has no `loss`", span, hint="add `loss = mse * node_weights(area)`")
    if kind == "temporal_downscaler":
        plan = _downscaler(ctx, settings, span, frequency_s)
    elif kind == "autoencoder":
        plan = _autoencoder(ctx, settings, method, frequency_s)
    elif kind == "spatial_downscaler":
        plan = _spatial_downscaler(ctx, settings, frequency_s)
    else:
        plan = _forecaster(ctx, settings, frequency_s)
    if plan is None or metrics is None or method is None or method.plan is None or "members" in settings \
            or "loss" not in settings:
        return None
    return CheckedTask(replace(plan, method=method.plan), settings["loss"], metrics)


def _forecaster(ctx: Context, settings: Settings, frequency_s: int | None) -> TaskPlan | None:
    """``timestep``, ``inputs`` (a count of steps) and the rollout schedule."""
    forecast_without_targets(ctx, settings)
    read = read_settings(ctx, settings, TABLE)
    timestep = _timestep(ctx, settings.get("timestep"), frequency_s)
    rollout = _rollout(ctx, settings.get("rollout"))
    if read is None or timestep is None or rollout is None or "targets" in settings:
        return None
    validation = read.pop("validation", 1)
    return TaskPlan(kind="forecaster", timestep_s=timestep, rollout=RolloutPlan(**rollout,  # type: ignore[arg-type]
                    validation=validation), **read)


def _downscaler(ctx: Context, settings: Settings, span: Span, frequency_s: int | None) -> TaskPlan | None:
    """The bracketing ``inputs`` and the ``targets`` between them (``typecheck.downscale``); no rollout."""
    window = check_window(ctx, settings, span, frequency_s)
    if window is None:
        return None
    return TaskPlan(kind="temporal_downscaler", timestep_s=window.timestep_s, multistep_input=len(window.inputs),
                    input_offsets=window.inputs, target_offsets=window.targets)


def _autoencoder(ctx: Context, settings: Settings, method: CheckedMethod | None,
                 frequency_s: int | None) -> TaskPlan | None:
    """An autoencoder reconstructs the state at t from the state at t: no time settings, no tendency (the state
    itself is what passes the hidden mesh), and for now a deterministic method; None after a diagnostic."""
    ok = True
    for key in NO_TIME:
        if key in settings:
            ctx.sink.error("E0825", f"an autoencoder has no `{key}`: it reconstructs the state at t from the state "
                           "at t", settings[key].span, hint=f"remove `{key}`")
            ok = False
    prediction = settings.get("prediction")
    if isinstance(prediction, v.Symbol) and prediction.name == "tendency":
        ctx.sink.error("E0826", "an autoencoder predicts the state itself, not a tendency: with the input added "
                       "back it would learn the identity without using the hidden mesh", prediction.span,
                       hint="remove `prediction` (an autoencoder predicts the state)")
        ok = False
    if method is not None and method.word == "ensemble":
        assert method.span is not None
        unsupported.refuse(ctx, unsupported.ENSEMBLE_AUTOENCODER, method.span)
        ok = False
    read = read_settings(ctx, settings, TABLE)
    if not ok or read is None or frequency_s is None:
        return None
    return TaskPlan(kind="autoencoder", timestep_s=frequency_s, rollout=RolloutPlan(), **read)


def _spatial_downscaler(ctx: Context, settings: Settings, frequency_s: int | None) -> TaskPlan | None:
    """The fine field at t from the coarse field at t (``typecheck.spatial``): no time settings; the coarse
    dataset is the graph's ``source``."""
    ok = spatial.no_time(ctx, settings, settings.get("prediction"))
    read = read_settings(ctx, settings, TABLE)
    if not ok or read is None or frequency_s is None:
        return None
    return TaskPlan(kind="spatial_downscaler", timestep_s=frequency_s, rollout=RolloutPlan(), **read)


def _timestep(ctx: Context, value: v.Value | None, frequency_s: int | None) -> int | None:
    """Whole seconds, a multiple of the dataset's frequency; the dataset's frequency when not given."""
    if value is None:
        return frequency_s
    ctx.mark("task.timestep_s", value)
    seconds = coerce.duration(value, ctx.sink, "`timestep`")
    if seconds is not None and seconds <= 0:
        ctx.sink.error("E0105", "`timestep` must be longer than zero", value.span)
        return None
    if seconds is not None and frequency_s and seconds % frequency_s:
        ctx.sink.error("E0802", f"the timestep {format_duration(seconds)} is not a multiple of the dataset's "
                       f"frequency ({format_duration(frequency_s)})", value.span,
                       hint=f"use {format_duration(frequency_s)} or a multiple of it")
        return None
    return seconds


def _rollout(ctx: Context, value: v.Value | None) -> dict[str, int] | None:
    """``rollout = 3`` or ``1 -> 12 by 1 every 2 epochs``: the training schedule's fields."""
    if value is None:
        return {}
    ctx.mark("task.rollout", value)
    if not isinstance(value, v.RolloutV):
        count = _steps(value, ctx.sink, "`rollout`")
        return None if count is None else {"start": count, "increment": 0, "maximum": count}
    start, end = _steps(value.start, ctx.sink, "the rollout's start"), _steps(value.end, ctx.sink, "the rollout's end")
    by = coerce.integer(value.by, ctx.sink, "the rollout's increment (`by`)", minimum=0) if value.by is not None \
        else 1
    if start is None or end is None or by is None:
        return None
    if end < start:
        ctx.sink.error("E0805", f"the rollout grows from {start} to {end} steps: it cannot shrink", value.span,
                       hint=f"write `{end} -> {start}`")
        return None
    return {"start": start, "increment": by if end > start else 0, "every_epochs": value.every or 1, "maximum": end}


def _metrics(ctx: Context, value: v.Value | None, method: CheckedMethod | None) -> tuple[str, ...] | None:
    """The validation metrics the runtime scores per output variable and lead time; those of an ensemble's
    distribution (``kinds.ENSEMBLE_METRICS``) only for the ensemble method."""
    if value is None:
        return ("rmse",)
    ctx.mark("loss.metrics", value)
    chosen = []
    for item in value.items if isinstance(value, v.ListV) else (value,):
        if isinstance(item, v.Symbol) and item.name in unsupported.METRICS:
            unsupported.metric(ctx, item.name, item.span)
            chosen.append(None)
            continue
        metric = coerce.choice(item, ctx.sink, "`metrics`", kinds.METRICS)
        if metric in kinds.ENSEMBLE_METRICS and method is not None and method.word != "ensemble":
            hint = "score the error with `mae` (for one state the CRPS is the MAE)" if metric == "crps" else \
                "remove it, or train an ensemble: `method = ensemble(members = 4)`"
            ctx.sink.error("E0810", f"the metric `{metric}` scores the members of an ensemble; this task's method is "
                           f"{method.word}", item.span, hint=hint)
            metric = None
        chosen.append(metric)
    return None if None in chosen else tuple(dict.fromkeys(chosen))  # type: ignore[arg-type]
