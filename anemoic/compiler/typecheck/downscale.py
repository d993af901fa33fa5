"""The time window of a temporal downscaler: its bracketing inputs and the targets between them.

``inputs = [0, 2mo]`` are the offsets of the states the model reads (t and t + 2 months), ``targets = [1mo]``
those it predicts between them, all at once (anemoi's TemporalDownscaler).  Offsets are durations from t
(``0`` alone is t itself); each is a multiple of the dataset's frequency, the inputs ascend, and every
target lies strictly between the first and the last input without being one.  The plan holds them in
timesteps of their greatest common divisor (``TaskPlan.input_offsets`` / ``target_offsets``), counted
from the first input, so the window the data module reads is as short as the offsets allow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.context import Context, Settings
from anemoic.plan.units import MONTH_S, format_duration

FORECAST_ONLY = {  # settings of `task forecast` a downscaler does not take -> what to write instead
    "timestep": "the offsets in `inputs` and `targets` set the times; remove `timestep`",
    "rollout": "a downscaler predicts every target at once from the same inputs: remove `rollout`",
    "validation_rollout": "a downscaler is validated on its `targets`: remove `validation_rollout`",
    "prediction": "a downscaler predicts states (the increment over the linear interpolation of its inputs); "
                  "remove `prediction`",
}
DOWNSCALE_ONLY = {"targets": "`targets` belongs to `task temporal_downscale`; a forecast predicts the states "
                             "after its inputs: remove it, or set `rollout`"}


@dataclass(frozen=True)
class Window:
    timestep_s: int  # the offsets' greatest common divisor
    inputs: tuple[int, ...]  # in timesteps from the first input
    targets: tuple[int, ...]


def _offset(value: v.Value, ctx: Context, what: str) -> int | None:
    """Seconds of a duration, or 0 for ``0`` (t itself)."""
    if isinstance(value, v.Num) and value.value == 0 and not isinstance(value.value, bool):
        return 0
    return coerce.duration(value, ctx.sink, what)


def _offsets(ctx: Context, value: v.Value, key: str, example: str) -> list[tuple[int, Span]] | None:
    """``(seconds, where)`` of each item of the list ``value``; None after a diagnostic."""
    if not isinstance(value, v.ListV):
        ctx.sink.error("E0820", f"`{key}` of a temporal downscaler needs a list of offsets from t, found "
                       f"{v.describe(value)}", value.span, hint=f"write {example}")
        return None
    read = [(_offset(item, ctx, f"each offset of `{key}`"), item.span) for item in value.items]
    return None if any(seconds is None for seconds, _ in read) else read  # type: ignore[return-value]


def _on_frequency(ctx: Context, offsets: list[tuple[int, Span]], frequency_s: int | None) -> bool:
    ok = True
    for seconds, span in offsets:
        if frequency_s and seconds % frequency_s:
            ctx.sink.error("E0822", f"the offset {format_duration(seconds) if seconds else '0'} is not a multiple of "
                           f"the dataset's frequency ({format_duration(frequency_s)})", span,
                           hint=f"the store has a state every {format_duration(frequency_s)}: use multiples of it")
            ok = False
    return ok


def check_window(ctx: Context, settings: Settings, span: Span, frequency_s: int | None) -> Window | None:
    """The downscaler's window from ``inputs`` and ``targets``; None after a diagnostic."""
    step = format_duration(frequency_s or MONTH_S)
    two = format_duration(2 * (frequency_s or MONTH_S))
    example_inputs, example_targets = f"`inputs = [0, {two}]`", f"`targets = [{step}]`"
    for key, hint in FORECAST_ONLY.items():
        if key in settings:
            ctx.sink.error("E0824", f"`{key}` is a setting of `task forecast`, not of `task temporal_downscale`",
                           settings[key].span, hint=hint)
    inputs_value, targets_value = settings.get("inputs"), settings.get("targets")
    if inputs_value is None and settings.missing("inputs"):
        ctx.sink.error("E0820", "the downscaler has no `inputs`: the times it interpolates between", span,
                       hint=f"add {example_inputs}: the states at t and t + {two}")
    if targets_value is None and settings.missing("targets"):
        ctx.sink.error("E0823", "the downscaler has no `targets`: the times it predicts", span,
                       hint=f"add {example_targets}: the states between the inputs")
    ctx.mark("task.input_offsets", inputs_value)
    ctx.mark("task.target_offsets", targets_value)
    inputs = _offsets(ctx, inputs_value, "inputs", example_inputs) if inputs_value is not None else None
    targets = _offsets(ctx, targets_value, "targets", example_targets) if targets_value is not None else None
    if inputs is None or targets is None or inputs_value is None or targets_value is None:
        return None
    ok = _on_frequency(ctx, inputs, frequency_s) & _on_frequency(ctx, targets, frequency_s)
    seconds = [s for s, _ in inputs]
    if len(inputs) < 2 or any(b <= a for a, b in zip(seconds, seconds[1:])):
        ctx.sink.error("E0820", "`inputs` of a temporal downscaler are two or more offsets in ascending order, "
                       f"found [{', '.join(format_duration(s) if s else '0' for s in seconds)}]", inputs_value.span,
                       hint=f"write the times either side of the targets: {example_inputs}")
        return None
    if not targets:
        ctx.sink.error("E0823", "`targets` is empty: the downscaler would predict nothing", targets_value.span,
                       hint=f"list the times between the inputs: {example_targets}")
        return None
    first, last = seconds[0], seconds[-1]
    seen: set[int] = set()
    for offset, where in targets:
        if not first < offset < last or offset in seconds:
            said = format_duration(offset) if offset else "0"
            why = "is one of the inputs" if offset in seconds else \
                f"is not between the inputs {format_duration(first) if first else '0'} and {format_duration(last)}"
            ctx.sink.error("E0821", f"the target {said} {why}", where,
                           notes=(("the inputs are set here", inputs_value.span),),
                           hint="a downscaler predicts the states strictly between its inputs; to predict beyond "
                           "them, train a forecaster")
            ok = False
        elif offset in seen:
            ctx.sink.error("E0202", f"the target {format_duration(offset)} is listed twice", where,
                           hint="keep one of them")
            ok = False
        seen.add(offset)
    if not ok:
        return None
    relative = [s - first for s in seconds] + [s - first for s, _ in targets]
    step = math.gcd(*relative)
    return Window(step, tuple(s // step for s in relative[: len(seconds)]),
                  tuple(s // step for s in relative[len(seconds):]))


def forecast_without_targets(ctx: Context, settings: Settings) -> None:
    """``targets`` in a forecast block: a setting of the downscaler."""
    for key, hint in DOWNSCALE_ONLY.items():
        if key in settings:
            ctx.sink.error("E0824", f"`{key}` is a setting of `task temporal_downscale`, not of `task forecast`",
                           settings[key].span, hint=hint)
