"""The training method of a task: how it is trained, apart from what it predicts (docs/language.md §8).

``method = deterministic`` (the default) predicts one state per sample; ``method = ensemble(members = 4,
noise = inject(channels = 4))`` predicts ``members`` states side by side, made to differ by noise.  A
method the language names but the runtime does not execute (``diffusion``) is read here and refused
by the task x method grid (``anemoic.compiler.typecheck.unsupported``).
"""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler import values as v
from anemoic.compiler.builtins import METHOD_KINDS, NOISE_KINDS
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.arguments import argument, component, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.plan.model import MethodPlan, NoisePlan

EXAMPLE = "ensemble(members = 4)"
NOISE_HINTS = {"channels": "noise values per hidden node and member; anemoi's ensembles use 4",
               "hidden": "the width of the noise's MLP; anemoi uses 32",
               "std": "the noise's standard deviation; anemoi uses 1"}


@dataclass(frozen=True)
class CheckedMethod:
    word: str  # the method as written: deterministic, ensemble, diffusion
    span: Span | None  # where it was written (None: the default)
    plan: MethodPlan | None  # None for a method the runtime does not execute


def check_method(ctx: Context, value: v.Value | None) -> CheckedMethod | None:
    """The method of ``method = ...``, deterministic when not given; None after a diagnostic."""
    if value is None:
        return CheckedMethod("deterministic", None, MethodPlan())
    ctx.mark("task.method", value)
    method = component(ctx, value, "method", "`method`", EXAMPLE)
    if method is None:
        return None
    if method.builtin not in METHOD_KINDS:  # designed, not executed: the grid refuses it
        return CheckedMethod(method.builtin, method.span, None)
    if method.builtin == "deterministic":
        return CheckedMethod("deterministic", method.span, MethodPlan())
    members = argument(ctx, method, "members", "task.method.members")
    noise = _noise(ctx, method.get("noise"))
    if failed(members) or noise is None:
        return None
    if members < 2:  # type: ignore[operator]
        where = method.get("members")
        ctx.sink.error("E0808", f"an ensemble needs at least 2 members, found {members}",
                       where.span if where is not None else method.span,
                       hint="use `members = 2` or more; one state per sample is `method = deterministic`")
        return None
    return CheckedMethod("ensemble", method.span, MethodPlan("ensemble", int(members), noise))  # type: ignore[arg-type]


def _noise(ctx: Context, value: v.Value | None) -> NoisePlan | None:
    """``inject(channels = 4)`` (the default) or ``condition(...)``: the noise that makes members differ."""
    if value is None:
        return NoisePlan("inject")
    ctx.mark("task.method.noise", value)
    noise = component(ctx, value, "noise", "`noise`", "inject(channels = 4)")
    if noise is None:
        return None
    channels = argument(ctx, noise, "channels", "task.method.noise.channels")
    std = argument(ctx, noise, "std", "task.method.noise.std")
    hidden = argument(ctx, noise, "hidden", "task.method.noise.hidden")
    if failed(channels, std, hidden):
        return None
    ok = True
    for name, number in (("channels", channels), ("hidden", hidden), ("std", std)):
        if number <= 0:  # type: ignore[operator]
            where = noise.get(name)
            ctx.sink.error("E0105", f"`{name}` of `{noise.builtin}` must be greater than 0, found {number}",
                           where.span if where is not None else noise.span, hint=NOISE_HINTS[name])
            ok = False
    if not ok:
        return None
    return NoisePlan(NOISE_KINDS[noise.builtin], int(channels), float(std), int(hidden))  # type: ignore[arg-type]
