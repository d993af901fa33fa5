"""The task: what is learned (forecast, ensemble, interpolate, autoencode), its timestep,
input steps and rollout schedule."""

from __future__ import annotations

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import seconds_text
from anemoic.plan import kinds
from anemoic.plan.model import RolloutPlan, TaskPlan

KINDS = {"forecast": "forecaster", "ensemble": "ensemble", "interpolate": "interpolator",
         "autoencode": "autoencoder"}
SETTINGS = ("timestep", "inputs", "rollout", "validation_rollout", "loss", "prediction", "members", "metrics")
METRICS = kinds.METRICS


def steps(ctx: Context, value: v.Value, what: str) -> int | None:
    """``2 steps`` or ``2``."""
    if isinstance(value, v.StepsV):
        value = value.count
    return coerce.integer(value, ctx.sink, what, minimum=1)


def _rollout(ctx: Context, value: v.Value | None) -> RolloutPlan | None:
    if value is None:
        return RolloutPlan()
    ctx.mark("task.rollout", value)
    if not isinstance(value, v.RolloutV):
        count = steps(ctx, value, "`rollout`")
        return None if count is None else RolloutPlan(start=count, increment=0, maximum=count)
    start, end = steps(ctx, value.start, "the rollout's start"), steps(ctx, value.end, "the rollout's end")
    by = coerce.integer(value.by, ctx.sink, "the rollout's increment (`by`)", minimum=0) if value.by is not None \
        else 1
    if start is None or end is None or by is None:
        return None
    if end < start:
        ctx.sink.error("E0805", f"the rollout grows from {start} to {end} steps: it cannot shrink", value.span,
                       hint=f"write `{end} -> {start}`")
        return None
    every = value.every or 1
    return RolloutPlan(start=start, increment=by if end > start else 0, every_epochs=every, maximum=end)


def check_task(ctx: Context, kind_name: v.Symbol, settings: dict[str, v.Value], span: Span,
               frequency_s: int | None) -> tuple[TaskPlan, v.Value | None, tuple[str, ...]] | None:
    """The task plan, the loss expression (checked by the loss checker) and the metrics."""
    if kind_name.name not in KINDS:
        ctx.sink.error("E0801", f"`{kind_name.name}` is not a kind of task", kind_name.span,
                       hint=coerce.did_you_mean(kind_name.name, list(KINDS), f"choose one of {', '.join(KINDS)}"))
        return None
    kind = KINDS[kind_name.name]
    ok = True
    timestep = frequency_s
    if "timestep" in settings:
        ctx.mark("task.timestep_s", settings["timestep"])
        timestep = coerce.duration(settings["timestep"], ctx.sink, "`timestep`")
        if timestep is not None and timestep <= 0:
            ctx.sink.error("E0105", "`timestep` must be longer than zero", settings["timestep"].span)
            timestep = None
        if timestep is not None and frequency_s and timestep % frequency_s:
            ctx.sink.error("E0802", f"the timestep {seconds_text(timestep)} is not a multiple of the dataset's "
                           f"frequency ({seconds_text(frequency_s)})", settings["timestep"].span,
                           hint=f"use {seconds_text(frequency_s)} or a multiple of it")
            timestep = None
        ok = timestep is not None
    multistep = 1
    if "inputs" in settings:
        ctx.mark("task.multistep_input", settings["inputs"])
        got = steps(ctx, settings["inputs"], "`inputs`")
        ok = ok and got is not None
        multistep = got or 1
    rollout = _rollout(ctx, settings.get("rollout"))
    validation = 1
    if "validation_rollout" in settings:
        ctx.mark("task.rollout.validation", settings["validation_rollout"])
        got = steps(ctx, settings["validation_rollout"], "`validation_rollout`")
        ok = ok and got is not None
        validation = got or 1
    prediction = "state"
    if "prediction" in settings:
        ctx.mark("task.prediction", settings["prediction"])
        prediction = coerce.choice(settings["prediction"], ctx.sink, "`prediction`", ("state", "tendency")) or ""
        ok = ok and bool(prediction)
    members = 1
    if "members" in settings:
        if kind != "ensemble":
            ctx.sink.error("E0804", "`members` only applies to ensemble tasks", settings["members"].span,
                           hint=f"use `task ensemble(...)` or remove `members`")
            ok = False
        else:
            got = coerce.integer(settings["members"], ctx.sink, "`members`", minimum=2)
            ok = ok and got is not None
            members = got or 1
    metrics: tuple[str, ...] = ("rmse",)
    if "metrics" in settings:
        value = settings["metrics"]
        items = value.items if isinstance(value, v.ListV) else (value,)
        chosen = [coerce.choice(i, ctx.sink, "`metrics`", METRICS) for i in items]
        ok = ok and None not in chosen
        metrics = tuple(c for c in chosen if c)
    if getattr(settings, "missing", lambda k: k not in settings)("loss"):
        ctx.sink.error("E0806", "the task has no `loss`", span, hint="add `loss = mse * node_weights(area)`")
        ok = False
    if not ok or rollout is None or timestep is None or "loss" not in settings:
        return None
    rollout = RolloutPlan(rollout.start, rollout.increment, rollout.every_epochs, rollout.maximum, validation)
    return TaskPlan(kind=kind, timestep_s=timestep, multistep_input=multistep, rollout=rollout,
                    prediction=prediction), settings.get("loss"), metrics
