"""A spatial downscaler's coarse dataset: the graph's ``source``, checked against the fine dataset.

``graph g = encode_process_decode(fine, source = coarse, ...)`` with ``task spatial_downscale(net)``: the
model reads ``coarse`` at the valid times of ``fine``'s periods and predicts ``fine``.  The coarse inputs
take the ``variables`` block's names, read from the coarse store by name and normalised with its statistics
(``SourcePlan.variables``).  Checked here: a downscaler has a source and only a downscaler has one; the
coarse store holds every variable read from a store (with an imputer where it has NaNs); the coarse store's
frequency divides the fine dataset's and every fine period lies inside its dates; its grid is a regular
latitude/longitude grid coarser than the fine one; the loss weighs the grid points (the coarse points' node
weight is 0); the model is not sharded.
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo, check_dataset
from anemoic.plan.model import LossPlan, ParallelPlan, VariablePlan
from anemoic.plan.units import format_duration

TIME_SETTINGS = ("timestep", "inputs", "targets", "rollout", "validation_rollout")


@dataclasses.dataclass(frozen=True)
class CheckedSource:
    info: DatasetInfo
    variables: tuple[VariablePlan, ...]  # Plan.variables with the coarse store's indices


def no_time(ctx: Context, settings: dict, prediction: v.Value | None) -> bool:
    """A spatial downscaler maps the coarse field at t to the fine field at t: no time settings, no tendency."""
    ok = True
    for key in TIME_SETTINGS:
        if key in settings:
            ctx.sink.error("E0840", f"a spatial downscaler has no `{key}`: it maps the coarse field at t to the fine "
                           "field at t", settings[key].span, hint=f"remove `{key}`")
            ok = False
    if isinstance(prediction, v.Symbol) and prediction.name == "tendency":
        ctx.sink.error("E0840", "a spatial downscaler predicts the fine state (its departure from the interpolated "
                       "coarse field), not a tendency", prediction.span, hint="remove `prediction`")
        ok = False
    return ok


def source_mismatch(ctx: Context, is_downscaler: bool, source: v.Value | None, graph_span: Span | None,
                    task_span: Span) -> bool:
    """A downscaler's graph needs a ``source``; any other task's graph must not have one. False after a diagnostic."""
    if is_downscaler and source is None:
        ctx.sink.error("E0841", "a spatial downscaler's graph has no `source`: the coarse dataset it reads",
                       graph_span or task_span, notes=(("the task is a spatial downscaler", task_span),),
                       hint="add `source = coarse` to `encode_process_decode(...)`, a `dataset` of the coarse store")
        return False
    if not is_downscaler and source is not None:
        ctx.sink.error("E0842", "`source` is the coarse dataset of a spatial downscaler; this task reads one "
                       "dataset", source.span, notes=(("the task is here", task_span),),
                       hint="remove `source`, or train `task spatial_downscale(net)`")
        return False
    return True


def not_a_cutout(ctx: Context, downscaler: bool, cut: object | None) -> bool:
    """A spatial downscaler over a limited-area model's cut-out grid has not been run: refused."""
    if downscaler and cut is not None:
        ctx.sink.error("E1422", "a spatial downscaler on a limited-area model's cut-out grid is not executed by this "
                       "runtime yet", getattr(cut, "span", None) or ctx.file_span(),
                       hint="build the graph on the fine dataset itself: `encode_process_decode(fine, source = "
                       "coarse, ...)`")
        return False
    return True


def check_source(ctx: Context, source: v.Value, fine: DatasetInfo, variables: tuple[VariablePlan, ...],
                 directories: dict[str, Path], require: bool) -> CheckedSource | None:
    """The coarse dataset against the fine one; None after a diagnostic."""
    if not isinstance(source, v.DatasetV):
        ctx.sink.error("E0702", f"`source` must be a dataset, found {v.describe(source)}", source.span,
                       hint='declare it: `dataset coarse = zarr("data/coarse.zarr") { frequency = 1mo }`')
        return None
    if source.name == fine.name:
        ctx.sink.error("E0843", f"the source `{source.name}` is the dataset being predicted", source.span,
                       hint="the source is the coarse dataset the fine one is downscaled from")
        return None
    info = check_dataset(ctx, source, directories, require, periods_required=False, plan_field="source.dataset")
    if info is None:
        return None
    ok = _aligned(ctx, info, fine, source.span)
    meta = info.metadata
    out = []
    for var in variables:
        if var.store_index < 0 or meta is None:
            out.append(var)
            continue
        if var.name not in meta.variables:
            ctx.sink.error("E0844", f"the source store `{source.name}` has no variable `{var.name}`", source.span,
                           hint=f"it has {', '.join(meta.variables)}; the coarse inputs are read by the `variables` "
                           "block's names")
            ok = False
            continue
        if var.imputer is None and meta.variables_with_nans and var.name in meta.variables_with_nans:
            ctx.sink.error("E0844", f"`{var.name}` has missing values (NaN) in the source store `{source.name}`, but "
                           "no imputer fills them", source.span,
                           hint=f"add `impute = {{ {var.name}: mean }}` to the `variables` block")
            ok = False
        out.append(dataclasses.replace(var, store_index=meta.variables.index(var.name)))
    if meta is not None and fine.metadata is not None and not _coarser(ctx, info, fine, source.span):
        ok = False
    return CheckedSource(info, tuple(out)) if ok else None


def _aligned(ctx: Context, coarse: DatasetInfo, fine: DatasetInfo, span: Span) -> bool:
    """The coarse store has a state at every valid time of the fine dataset's periods."""
    meta = coarse.metadata
    if meta is None or fine.frequency_s is None:
        return True
    ok, step = True, datetime.timedelta(seconds=int(meta.frequency_s))  # the last state covers its step
    every = coarse.frequency_s or int(meta.frequency_s)  # as the source dataset is read
    if fine.frequency_s % every:
        ctx.sink.error("E0845", f"the source `{coarse.name}` is read every {format_duration(every)}, which does "
                       "not divide the frequency of "
                       f"`{fine.name}` ({format_duration(fine.frequency_s)})", span,
                       hint="the coarse field is read at the fine dataset's times: give it those times")
        ok = False
    for key, period in fine.periods.items():
        if period.start < meta.start_date or period.end >= meta.end_date + step:
            ctx.sink.error("E0845", f"the `{key}` period of `{fine.name}` ({period.start.date()} to "
                           f"{period.end.date()}) is not inside the dates of the source store `{coarse.name}` "
                           f"({meta.start_date.date()} to {meta.end_date.date()})", period.span,
                           notes=(("the source is here", span),),
                           hint="every valid time the downscaler trains or validates on needs the coarse field")
            ok = False
    return ok


def _coarser(ctx: Context, coarse: DatasetInfo, fine: DatasetInfo, span: Span) -> bool:
    """A regular coarse grid (the bilinear interpolation needs one), with wider spacing than the fine grid."""
    from anemoic.datasets.store import open_store
    from anemoic.geo.interpolation import GridError, spacing

    coarse_store, fine_store = open_store(coarse.path), open_store(fine.path)
    try:
        wide = spacing(coarse_store.latitudes, coarse_store.longitudes)
    except GridError as exc:
        ctx.sink.error("E0846", f"the source `{coarse.name}` cannot be interpolated bilinearly: {exc}", span,
                       hint="the coarse store must hold a regular latitude/longitude grid")
        return False
    try:
        narrow = spacing(fine_store.latitudes, fine_store.longitudes)
    except GridError:
        narrow = None  # any fine grid can be interpolated onto; compare point counts instead
    if (narrow is not None and wide <= narrow) or coarse_store.metadata.grid_size >= fine_store.metadata.grid_size:
        ctx.sink.error("E0846", f"the source `{coarse.name}` ({coarse_store.metadata.grid_size} points, "
                       f"{wide:g} degrees apart) is not coarser than `{fine.name}` ({fine_store.metadata.grid_size} "
                       "points)", span, hint="downscaling goes from a coarse grid to a finer one: swap the datasets")
        return False
    return True


def loss_weighs_points(ctx: Context, loss: LossPlan) -> None:
    """Every loss term weighs the grid points with the node weights, which are 0 on the coarse points: without
    them the coarse points' echo of the input would count in the loss."""
    node_scalers = {s.name for s in loss.scalers if s.kind == "node_weights"}
    if any(not node_scalers.intersection(term.scalers) for term in loss.terms):
        ctx.sink.error("E1421", "a spatial downscaler's loss must weigh the grid points with `node_weights(...)`: "
                       "the model's grid holds the coarse points too, which only the node weights leave out",
                       ctx.span_of("loss.terms"), hint="write `loss = mse * node_weights(area) * nan_mask`")


def unsharded(ctx: Context, parallel: ParallelPlan) -> None:
    if parallel.gpus_per_model > 1:
        ctx.sink.error("E1420", f"training a spatial downscaler on a model sharded over {parallel.gpus_per_model} "
                       "GPUs is not executed by this runtime yet", ctx.span_of("parallel.gpus_per_model"),
                       hint="use `gpus_per_model = 1`: each GPU holds a whole model; add GPUs as data parallelism")
