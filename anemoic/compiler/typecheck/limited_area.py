"""A limited-area model: the region's dataset, the boundary dataset around it (``cutout(...)``) and the
task's ``output_mask``, checked together.

The region's ``variables`` block defines the model's variables; the boundary must list the same names with the
same roles in a block of its own (its own normalisers and imputers), be readable at every time the region is,
and the task must mask its output to the region: a boundary that is trained on but never forced at inference
(anemoi issue 150) cannot be written.  Missing individual dates are the runtime's (samples skipped and counted)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.compiler.typecheck.graph_model import Cutout, GraphParts
from anemoic.compiler.typecheck.variables import VariablesResult
from anemoic.plan import kinds
from anemoic.plan.model import ParallelPlan, TaskPlan, VariablePlan
from anemoic.plan.units import format_duration

T = TypeVar("T")
_MONTH_S = 28 * 86400  # store frequencies from here up are calendar months: no arithmetic on their dates


@dataclass(frozen=True)
class CheckedBoundary:
    """What lowering writes into ``Plan.boundary``: the boundary's dataset, its variables in the region's
    order, and the margin."""

    dataset: DatasetInfo
    variables: tuple[VariablePlan, ...]
    margin_km: float
    forced: bool = True  # False: a stretched grid (``output_mask = none``)


def as_boundary(ctx: Context, check: Callable[[], T]) -> T:
    """Run a dataset or variables check for the boundary, its source-map marks under ``boundary.``
    (so they neither overwrite the region's nor name a plan field that does not exist)."""
    before = dict(ctx.spans)
    result = check()
    after, ctx.spans = ctx.spans, before
    for path, span in after.items():
        if before.get(path) is not span and not path.startswith("indices."):
            ctx.spans[f"boundary.{path}"] = span
    return result


def block_to_add(boundary: str, region: VariablesResult) -> str:
    """The exact ``variables from <boundary> { ... }`` block that mirrors the region's."""
    parts = []
    for role in kinds.ROLES:
        names = [x.name for x in region.variables if x.role == role]
        if names:
            parts.append(f"{role} = [{', '.join(names)}]")
    counts = Counter(x.normaliser for x in region.variables)
    common = counts.most_common(1)[0][0]
    others = [f"{x.name}: {x.normaliser}" for x in region.variables if x.normaliser != common]
    parts.append(f"normalise = {common}" + (f" except {{ {', '.join(others)} }}" if others else ""))
    return f"variables from {boundary} {{ {'; '.join(parts)} }}"


def boundary_variables(ctx: Context, cut: Cutout, region: VariablesResult, boundary: VariablesResult | None,
                       block_span: Span | None) -> tuple[VariablePlan, ...] | None:
    """The boundary's variables in the region's order; None after a diagnostic (E0514 missing, E0515 differing)."""
    wanted = block_to_add(cut.boundary.name, region)
    if block_span is None:
        ctx.sink.error("E0514", f"the boundary dataset `{cut.boundary.name}` has no `variables` block: the model "
                       f"reads the region `{cut.region.name}`'s variables from it at every step", cut.span,
                       hint=f"add `{wanted}` (its own normalisers and imputers may differ)")
        return None
    if boundary is None:
        return None
    inner = {x.name: x.role for x in region.variables}
    outer = {x.name: x.role for x in boundary.variables}
    problems = [f"`{n}` is missing" for n in inner if n not in outer]
    problems += [f"`{n}` is {outer[n]} here but {inner[n]} in `{cut.region.name}`"
                 for n in inner if n in outer and outer[n] != inner[n]]
    problems += [f"`{n}` is not a variable of `{cut.region.name}`" for n in outer if n not in inner]
    if problems:
        ctx.sink.error("E0515", f"the boundary's variables must be the region `{cut.region.name}`'s, with the same "
                       f"roles: {'; '.join(problems)}", block_span,
                       hint=f"write `{wanted}` (its own normalisers and imputers may differ)")
        return None
    by_name = {x.name: x for x in boundary.variables}
    return tuple(by_name[x.name] for x in region.variables)


def time_aligned(ctx: Context, region: DatasetInfo, boundary: DatasetInfo, timestep_s: int | None) -> None:
    """The boundary is readable at every time the region is: its frequency divides the region's and the
    timestep, each of the region's periods lies inside its store (on its dates), and periods it gives itself
    overlap the region's."""
    where = ctx.spans.get("boundary.dataset.frequency_s") or boundary.span
    outer = boundary.frequency_s
    store_s = int(boundary.metadata.frequency_s) if boundary.metadata is not None else None
    if outer and region.frequency_s:
        for what, seconds in ((f"the region `{region.name}`'s frequency", region.frequency_s),
                              ("the task's timestep", timestep_s)):
            if not seconds or seconds % outer == 0:
                continue
            common = _gcd(outer, seconds)
            fix = f"read `{region.name}` at a multiple of {format_duration(outer)} (`frequency = " \
                f"{format_duration(outer)}` in its dataset block)"
            if store_s is None or common % store_s == 0:
                fix = f"read the boundary at a common frequency (`frequency = {format_duration(common)}` in its " \
                    f"dataset block), or {fix}"
            ctx.sink.error("E0511", f"the boundary `{boundary.name}` is read every {format_duration(outer)}, "
                           f"which does not divide {what} ({format_duration(seconds)}): some of the model's "
                           "states would have no boundary", where,
                           notes=((f"`{region.name}` is declared here", region.span),) if region.span else (),
                           hint=fix)
            break
    meta = boundary.metadata
    for key, period in region.periods.items():
        if meta is None:
            break
        first, last = meta.start_date, meta.end_date
        step = outer or int(meta.frequency_s)  # the dates the boundary is read at, from its store's first
        covers = f"the boundary store `{boundary.name}` covers {first.isoformat()} to {last.isoformat()}"
        notes = ((f"`{boundary.name}` is declared here", boundary.span),) if boundary.span else ()
        inner = region.metadata  # the period's dates are the region store's: `2019..2021` ends at its last month
        end = min(period.end, inner.end_date) if inner is not None else period.end
        start = max(period.start, inner.start_date) if inner is not None else period.start
        if start < first or end > last:
            ctx.sink.error("E0512", f"the region's `{key}` period ({period.start.isoformat()} to "
                           f"{period.end.isoformat()}) is not inside the boundary store's dates", period.span,
                           notes=notes, hint=f"each period must lie inside every store: {covers}")
        elif step < _MONTH_S and (period.start - first).total_seconds() % step:
            ctx.sink.error("E0512", f"the region's `{key}` period starts {period.start.isoformat()}, which is not "
                           f"one of the boundary store's dates (every {format_duration(step)} from "
                           f"{first.isoformat()})", period.span, notes=notes,
                           hint=f"start the period on one of the boundary's dates: {covers}")
    for key, own in boundary.periods.items():
        inner = region.periods.get(key)
        if inner is None or own.start > inner.end or inner.start > own.end:
            shown = f"{inner.start.date()} to {inner.end.date()}" if inner else "not given"
            ctx.sink.error("E0513", f"the boundary's `{key}` period ({own.start.date()} to {own.end.date()}) does "
                           f"not overlap the region's ({shown})", own.span,
                           hint=f"remove it: a boundary dataset is read over the region `{region.name}`'s periods "
                           "and needs none of its own")


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


@dataclass(frozen=True)
class OutputMask:
    """The task's explicit choice on a cut-out grid: ``region`` masks the output to it (a limited-area model,
    forced at its boundary); None (``output_mask = none``) forecasts and scores both datasets (a stretched grid)."""

    region: str | None


def _choices(cut: Cutout) -> str:
    return (f"add `output_mask = {cut.region.name}` (a limited-area model: the region is forecast and scored, the "
            f"boundary forced from `{cut.boundary.name}` at every step) or `output_mask = none` (a stretched-grid "
            "model: both datasets are forecast and scored)")


def output_mask(ctx: Context, value: v.Value | None, at: Span | None, graph: GraphParts | None,
                task_span: Span) -> OutputMask | None:
    """The task's ``output_mask`` (``value``, written ``at``); None without a cut-out (and after a diagnostic)."""
    cut = graph.cutout if graph is not None else None
    where = at or task_span
    if value is not None:
        ctx.mark("task.output_mask", where)
    none = isinstance(value, v.Symbol) and value.name == "none"
    if cut is None:
        if value is not None and graph is not None:
            ctx.sink.error("E0832", f"`output_mask` applies to a limited-area or stretched-grid model, but the graph "
                           f"`{graph.name}` is built on the dataset `{graph.dataset}` alone", where,
                           hint="remove `output_mask`, or build the graph on `cutout(region, boundary, margin_km = "
                           "300)`")
        return None
    if value is None:
        assert graph is not None  # a cut-out comes from a graph
        ctx.sink.error("E0830", f"the graph `{graph.name}` is built on `cutout({cut.region.name}, "
                       f"{cut.boundary.name}, ...)` but the task has no `output_mask`: say whether the boundary is "
                       "forced (a limited-area model) or forecast too (a stretched grid); a boundary trained on and "
                       "never forced at inference is anemoi issue 150", task_span,
                       notes=(("the cut-out is here", cut.span),), hint=_choices(cut))
        return None
    if none:
        return OutputMask(None)
    if not isinstance(value, v.DatasetV) or value.name != cut.region.name:
        shown = f"the boundary `{value.name}`" if isinstance(value, v.DatasetV) and value.name == cut.boundary.name \
            else v.describe(value)
        ctx.sink.error("E0831", f"`output_mask` is {shown}, but the model forecasts the region "
                       f"`{cut.region.name}` of `cutout({cut.region.name}, {cut.boundary.name}, ...)`", where,
                       hint=f"write `output_mask = {cut.region.name}` (the loss, the metrics and the forecasts cover "
                       "the region, and the boundary is forced from its dataset) or `output_mask = none` (a "
                       "stretched grid: both datasets are forecast and scored)")
        return None
    return OutputMask(cut.region.name)


def supported(ctx: Context, cut: Cutout, task: TaskPlan | None, parallel: ParallelPlan | None) -> None:
    """What the runtime executes for a limited-area model: a forecaster (deterministic or ensemble) on unsharded
    models; everything else is refused here (E1417, E1418)."""
    if task is not None and task.kind != "forecaster":
        word = {"temporal_downscaler": "temporal_downscale", "autoencoder": "autoencode"}.get(task.kind, task.kind)
        ctx.sink.error("E1418", f"the task `{word}` on a limited-area model (`cutout(...)`) is not executed by this "
                       "runtime yet", cut.span, hint="train a limited-area model with `task "
                       "forecast(net) { ... }` (deterministic or ensemble), or build the graph on one dataset")
    if parallel is not None and parallel.gpus_per_model > 1:
        ctx.sink.error("E1417", f"a limited-area model (`cutout(...)`) on a model sharded over "
                       f"{parallel.gpus_per_model} GPUs (and with it read groups and `keep_batch_sharded`) is not "
                       "executed by this runtime yet", ctx.span_of("parallel.gpus_per_model"),
                       notes=(("the cut-out is here", cut.span),),
                       hint="use `gpus_per_model = 1`: each GPU holds a whole model; add GPUs as data parallelism")


def cutout_fits(ctx: Context, cut: Cutout, region: DatasetInfo, boundary: DatasetInfo) -> None:
    """With both stores readable, the cut-out must leave boundary points around the region (E0516), and both
    hold states of the same kind: as many ensemble members (E0834), so each point of a sample has them all."""
    if region.metadata is None or boundary.metadata is None:
        return
    inner, outer = region.metadata.ensemble_size, boundary.metadata.ensemble_size
    if inner != outer:
        ctx.sink.error("E0834", f"`{boundary.name}` holds {outer} ensemble member{'s' * (outer != 1)} and the "
                       f"region `{region.name}` {inner}: the points of one grid would have different members",
                       cut.span, hint="cut the region out of a store with as many ensemble members (single states: "
                       "one member each)")
    from anemoic.compiler.data_grid import combined_grid
    from anemoic.graphs.errors import GraphError

    try:
        combined_grid(region.path, boundary.path, cut.margin_km)
    except GraphError as exc:
        ctx.sink.error("E0516", f"the cut-out of `{region.name}` from `{boundary.name}`: {exc}", cut.span,
                       hint="use a boundary dataset that covers a wider area than the region, or a smaller "
                       "`margin_km`")
    except Exception as exc:  # an unreadable coordinate array is a diagnostic, never a traceback
        ctx.sink.error("E0505", f"cannot read the grids of `{region.name}` and `{boundary.name}`: {exc}", cut.span,
                       hint="the stores must follow the anemoi-datasets zarr layout")

