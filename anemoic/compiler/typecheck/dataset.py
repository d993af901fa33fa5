"""The dataset: its store, frequency and train/validate/test periods, checked against the
store's own metadata when the store can be read.

Each fact is checked on its own: a wrong frequency does not hide a period outside the store or an
unknown variable, so one ``check`` reports every independent mistake."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span, did_you_mean
from anemoic.compiler.typecheck.context import Context
from anemoic.plan.units import DAY_S, format_duration

if TYPE_CHECKING:  # the store reader loads numpy: only when a store is there to read
    from anemoic.datasets.store import StoreMetadata

SETTINGS = ("frequency", "train", "validate", "test")
SKIPPED = "variable names, date coverage, statistics, missing values, frequency and grid size"


@dataclass
class Period:
    start: datetime.datetime
    end: datetime.datetime  # the last valid time, inclusive
    span: Span


@dataclass
class DatasetInfo:
    name: str
    path: str
    frequency_s: int | None  # None when it failed its check (the error is reported)
    periods: dict[str, Period] = field(default_factory=dict)
    metadata: StoreMetadata | None = None  # when the store was read
    span: Span | None = None


def _read_metadata(path: str) -> tuple[StoreMetadata | None, str | None]:
    """(metadata, problem): problem says why a store that exists could not be read."""
    from anemoic.datasets.store import StoreError, read_metadata

    try:
        return read_metadata(path), None
    except StoreError as exc:
        return None, str(exc)
    except Exception as exc:  # a corrupt store must be a diagnostic, never a traceback
        return None, f"{exc.__class__.__name__}: {exc}"


def _store_path(ctx: Context, dataset: v.DatasetV, directories: dict[str, Path]) -> tuple[str, v.Value] | None:
    store = dataset.store
    if not (isinstance(store, v.ComponentV) and store.builtin == "zarr"):
        coerce.wrong(ctx.sink, "E0501", f"the dataset `{dataset.name}`", 'a store such as `zarr("data/era5.zarr")`',
                     store)
        return None
    raw = store.get("path")
    if raw is None:
        ctx.sink.error("E0501", "`zarr` needs the store's path", store.span, hint='write `zarr("data/era5.zarr")`')
        return None
    text = coerce.string(raw, ctx.sink, "the store path")
    if text is None:
        return None
    directory = directories.get(raw.span.file, Path.cwd())  # the folder of the file that wrote the path
    return os.path.normpath(text if os.path.isabs(text) else str(directory / text)), raw


def check_dataset(ctx: Context, dataset: v.DatasetV, directories: dict[str, Path],
                  require: bool, periods_required: bool = True, *, plan_field: str = "dataset") -> DatasetInfo | None:
    """``directories``: each source file's folder, against which relative store paths resolve.
    ``periods_required``: False for a limited-area model's boundary or a spatial downscaler's source, which are
    read over the periods of the dataset they serve; ``plan_field``: the plan field its settings are marked on."""
    found = _store_path(ctx, dataset, directories)
    settings = {k: (s, x) for k, s, x in dataset.settings}
    for key, (span, _) in settings.items():
        if key not in SETTINGS:
            ctx.sink.error("E0208", f"`{key}` is not a setting of `dataset`", span,
                           hint=did_you_mean(key, SETTINGS, f"`dataset` accepts: {', '.join(SETTINGS)}"))
    if found is None:
        return None
    path, path_value = found
    ctx.mark(f"{plan_field}.path", path_value)
    ctx.evaluator.program.stores.append(path)
    metadata = None
    shown = path_value.value if isinstance(path_value, v.Str) else path
    if not os.path.exists(path):
        if require:
            ctx.sink.error("E0504", f"the dataset store `{shown}` does not exist", path_value.span,
                           hint="build needs the store to fingerprint it; create it or fix the path")
        else:
            ctx.sink.warn("W0101", f"the dataset store `{shown}` does not exist; skipped checks: {SKIPPED}",
                          path_value.span, hint="`anemoic build` refuses until the store exists")
    else:
        cache = ctx.evaluator.program.metadata  # sweep members share one read of the store
        if path not in cache:
            cache[path] = _read_metadata(path)
        metadata, problem = cache[path]
        if problem is not None:
            ctx.sink.error("E0505", f"cannot read the dataset store: {problem}", path_value.span,
                           hint="the store must follow the anemoi-datasets zarr layout")
    frequency = _frequency(ctx, settings, metadata, dataset, plan_field)
    info = DatasetInfo(dataset.name, path, frequency, metadata=metadata, span=dataset.span)
    step = frequency or (metadata.frequency_s if metadata is not None else DAY_S)
    for key in ("train", "validate", "test"):
        if key not in settings:
            if key != "test" and key not in dataset.failed and periods_required:
                ctx.sink.error("E0506", f"the dataset `{dataset.name}` has no `{key}` period", dataset.span,
                               hint=f"add `{key} = 2019..2019` (years or dates) inside the dataset's `{{ }}`")
            continue
        span, value = settings[key]
        rng = coerce.date_range(value, ctx.sink, f"`{key}`")
        if rng is None:
            continue
        start, last, whole = rng
        # a whole last day ends at its last time step (18:00 for 6-hourly data; the day itself for daily/monthly)
        end = last + max(datetime.timedelta(0), datetime.timedelta(days=1) - datetime.timedelta(seconds=step)) \
            if whole else last
        info.periods[key] = Period(start, end, value.span)
        ctx.mark(f"{plan_field}.{key}", value)
        if metadata is not None:
            _inside_store(ctx, key, info.periods[key], metadata)
    _no_overlap(ctx, info)
    return info


def _frequency(ctx: Context, settings: dict[str, tuple[Span, v.Value]], metadata: StoreMetadata | None,
               dataset: v.DatasetV, plan_field: str = "dataset") -> int | None:
    if "frequency" not in settings:
        if "frequency" in dataset.failed:
            return None
        if metadata is not None:
            ctx.mark(f"{plan_field}.frequency_s", dataset.store)
            return int(metadata.frequency_s)
        ctx.sink.error("E0507", f"the dataset `{dataset.name}` needs a `frequency` when its store cannot be read",
                       dataset.span, hint="add `frequency = 6h` inside the dataset's `{ }`")
        return None
    span, value = settings["frequency"]
    seconds = coerce.duration(value, ctx.sink, "`frequency`")
    if seconds is None:
        return None
    if seconds <= 0:
        ctx.sink.error("E0105", "`frequency` must be longer than zero", value.span)
        return None
    ctx.mark(f"{plan_field}.frequency_s", value)
    if metadata is not None and seconds % int(metadata.frequency_s):
        ctx.sink.error("E0502", f"`frequency` `{coerce_text(value)}` is not a multiple "
                       f"of the store's frequency ({format_duration(int(metadata.frequency_s))})", value.span,
                       hint="a dataset can be read at its own frequency or any multiple of it")
        return None
    return seconds


def coerce_text(value: v.Value) -> str:
    return value.text if isinstance(value, v.Word) else v.describe(value)


def _inside_store(ctx: Context, key: str, period: Period, metadata: StoreMetadata) -> None:
    first, last = metadata.start_date, metadata.end_date
    # a range may end inside the store's last step (2021 ends 2021-12-31; monthly data ends 2021-12-01)
    step = datetime.timedelta(seconds=int(metadata.frequency_s))
    if period.start < first:
        ctx.sink.error("E0503", f"`{key}` starts {period.start.isoformat()}, before the store's first date "
                       f"{first.isoformat()}", period.span, hint=f"the store covers {first.date()} to {last.date()}")
    if period.end >= last + step:
        ctx.sink.error("E0503", f"`{key}` ends {period.end.isoformat()}, after the store's last date "
                       f"{last.isoformat()}", period.span, hint=f"the store covers {first.date()} to {last.date()}")


def _no_overlap(ctx: Context, info: DatasetInfo) -> None:
    names = list(info.periods)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            pa, pb = info.periods[a], info.periods[b]
            if pa.start <= pb.end and pb.start <= pa.end:
                lo, hi = max(pa.start, pb.start), min(pa.end, pb.end)
                ctx.sink.error("E0401", f"the `{a}` and `{b}` periods overlap ({lo.date()} to {hi.date()})", pb.span,
                               notes=((f"`{a}` is set here", pa.span),),
                               hint="evaluation must not see dates used for training; make the periods disjoint")
