"""`anemoic new`: a new experiment from a template; the templates are the shipped examples themselves.

The example's text is kept (its comments explain it) and edited at the places its syntax tree
names: relative paths are re-pointed from the new file's folder, the run's directory and tracking
experiment take the new name, and with a dataset the store path, frequency, periods and the
`variables` block are filled in from the store's metadata, so the result checks against that store.
"""

from __future__ import annotations

import datetime
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anemoic.compiler import ast
from anemoic.compiler.diagnostics import Sink, Span
from anemoic.compiler.formatter import format_source
from anemoic.compiler.parser import parse
from anemoic.datasets.store import StoreMetadata
from anemoic.plan.units import DURATION_UNITS, MONTH_S, format_duration

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DATE_FORCINGS = ("cos_julian_day", "sin_julian_day", "cos_latitude")
SUB_DAILY_FORCINGS = ("cos_local_time", "sin_local_time")
DAY_S = 86_400
LEVELLED = re.compile(r"^[a-z]+_\d+$")  # z_500: a variable on a pressure level


class TemplateError(Exception):
    """A template that does not exist or cannot be used; the message is one line for the user."""


def templates() -> dict[str, Path]:
    """Template name -> example file: each example's stem, and its first word where that is unique
    (`aifs` for aifs_o96.anm)."""
    files = sorted(EXAMPLES_DIR.glob("*.anm")) if EXAMPLES_DIR.is_dir() else []
    names = {p.stem: p for p in files}
    for p in files:
        short = p.stem.split("_")[0]
        if short not in names and sum(q.stem.split("_")[0] == short for q in files) == 1:
            names[short] = p
    return dict(sorted(names.items()))


@dataclass
class _Edits:
    text: str
    edits: list[tuple[int, int, str]]

    def offset(self, line: int, column: int) -> int:
        lines = self.text.split("\n")
        return sum(len(row) + 1 for row in lines[:line - 1]) + column - 1

    def replace(self, span: Span, new: str) -> None:
        self.edits.append((self.offset(span.line, span.column), self.offset(span.end_line, span.end_column), new))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _quote(path: str) -> str:
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(target: Path, directory: Path) -> str:
    """``target`` as the new file should write it: relative when near, else absolute."""
    target = Path(os.path.abspath(target))
    rel = os.path.relpath(target, directory)
    if rel.startswith(os.path.join("..", "..")):
        return str(target)
    return rel if rel.startswith("..") else "./" + rel


def render(template: str, name: str, target: Path, store: StoreMetadata | None = None) -> str:
    """The new experiment's text for the file ``target``; ``store`` fills in the dataset."""
    found = templates()
    if template not in found:
        raise TemplateError(f"no template `{template}`; templates: {', '.join(found) or 'none (no examples folder)'}")
    source = found[template]
    text = source.read_text(encoding="utf-8")
    module = parse(text, str(source), Sink())
    if module is None:  # pragma: no cover - the examples are checked by their own tests
        raise TemplateError(f"the template `{template}` ({source}) does not parse")
    datasets = [d.name.id for d in module.decls if isinstance(d, ast.Binding) and d.kind == "dataset"]
    if store is not None and len(datasets) > 1:
        raise TemplateError(f"the template `{template}` reads {len(datasets)} datasets ({', '.join(datasets)}): "
                            "`--dataset` fits templates of one dataset; make it without `--dataset` and point each "
                            "`zarr(...)` at your stores")
    here, there = source.parent, Path(os.path.abspath(target)).parent
    edits = _Edits(text, [])
    for decl in module.decls:
        if isinstance(decl, ast.Import) and decl.is_path:
            # the node spans the whole declaration: its string is found by its text
            start = text.index(_quote(decl.module), edits.offset(decl.span.line, decl.span.column))
            edits.edits.append((start, start + len(_quote(decl.module)),
                                _quote(_relative(here / decl.module, there))))
        if isinstance(decl, ast.Binding) and decl.kind == "dataset":
            _dataset(edits, decl, here, there, store)
        if isinstance(decl, ast.Section) and decl.block is not None:
            for setting in decl.block.settings:
                if (decl.kind, setting.key) in (("outputs", "run_dir"), ("tracking", "experiment")):
                    if isinstance(setting.value, ast.Literal) and setting.value.kind == "string":
                        edits.replace(setting.value.span, _quote(f"runs/{name}" if setting.key == "run_dir" else name))
            if decl.kind == "variables" and store is not None:
                edits.replace(decl.block.span, _variables_block(store))
            if decl.kind == "task" and store is not None:
                for setting in decl.block.settings:
                    if setting.key == "timestep" and not _multiple(setting.value, store.frequency_s):
                        edits.replace(setting.value.span, store.frequency)
                    if setting.key == "loss" and not any(LEVELLED.match(v) for v in store.variables):
                        _drop_level_weights(edits, setting)
                _offsets_in_steps(edits, decl.block.settings, store)
    how = f"anemoic new {name} --from {template}" + (f" --dataset {store.path}" if store else "")
    return format_source(f"// {name}: made by `{how}` from {source.name}.\n" + edits.result(), str(target))


def _dataset(edits: _Edits, decl: ast.Binding, here: Path, there: Path, store: StoreMetadata | None) -> None:
    call = decl.value
    if isinstance(call, ast.Call) and call.args and isinstance(call.args[0].value, ast.Literal):
        path = call.args[0].value
        target = Path(store.path) if store is not None else here / str(path.value)
        edits.replace(path.span, _quote(_relative(target, there)))
    if store is None or decl.block is None:
        return
    periods = _periods(store)
    for setting in decl.block.settings:
        if setting.key == "frequency":
            edits.replace(setting.value.span, store.frequency)
        elif setting.key in periods:
            edits.replace(setting.value.span, periods[setting.key])


def _drop_level_weights(edits: _Edits, setting: ast.Setting) -> None:
    """Without pressure-level variables the pressure-level scaler has nothing to weight (E1304)."""
    start = edits.offset(setting.span.line, setting.span.column)
    end = edits.text.find("\n", start)
    match = re.search(r"\s*\*\s*scalers\.pressure_level\b", edits.text[start:end])
    if match:
        edits.edits.append((start + match.start(), start + match.end(), ""))


def _seconds(value: ast.Expr) -> int | None:
    """Seconds of a duration literal (``6h``), 0 for ``0``; None for anything else."""
    if isinstance(value, ast.Literal) and value.kind == "int" and value.value == 0:
        return 0
    match = re.fullmatch(r"(\d+)([a-z]+)", str(value.value)) if isinstance(value, ast.Literal) else None
    return int(match[1]) * DURATION_UNITS[match[2]] if match is not None and match[2] in DURATION_UNITS else None


def _offsets_in_steps(edits: _Edits, settings: Sequence[ast.Setting], store: StoreMetadata) -> None:
    """A downscaler's ``inputs`` / ``targets`` offsets off the store's frequency (``[0, 2mo]`` on a 6-hourly
    store) become the same pattern in store steps (``[0, 12h]``), as ``timestep`` becomes the frequency."""
    lists = [s.value for s in settings if s.key in ("inputs", "targets") and isinstance(s.value, ast.ListExpr)]
    items = [item for value in lists for item in value.items]
    seconds = [_seconds(item) for item in items]
    if not items or None in seconds or all(s % store.frequency_s == 0 for s in seconds):  # type: ignore[operator]
        return
    unit = math.gcd(*seconds)  # type: ignore[arg-type]
    for item, value in zip(items, seconds):
        steps = value // unit  # type: ignore[operator]
        edits.replace(item.span, format_duration(steps * store.frequency_s) if steps else "0")


def _multiple(value: ast.Expr, frequency_s: int) -> bool:
    """Whether the duration ``value`` (``6h``) is a whole number of the store's steps."""
    match = re.fullmatch(r"(\d+)([a-z]+)", str(value.value)) if isinstance(value, ast.Literal) else None
    if match is None or match[2] not in DURATION_UNITS:
        return False
    return int(match[1]) * DURATION_UNITS[match[2]] % frequency_s == 0


def _day(when: datetime.datetime, sub_daily: bool) -> str:
    """A date literal; with time of day where steps are shorter than a day (a bare end date means its
    whole day, which would overlap the next period)."""
    return when.strftime("%Y-%m-%dT%H:%M") if sub_daily else when.strftime("%Y-%m-%d")


def _periods(store: StoreMetadata) -> dict[str, str]:
    """train / validate / test: the store's dates split 70 / 15 / 15 in time order (whole years when the
    store covers at least five of them, written ``1991..2011`` as the examples do)."""
    start, end = store.start_date, store.end_date
    years = end.year - start.year + 1
    if years >= 5 and (start.month, start.day, start.hour) == (1, 1, 0) and end.month == 12 \
            and (end.day == 31 or store.frequency_s == MONTH_S):
        a, b = max(1, int(years * 0.7)), max(2, int(years * 0.85))
        y = start.year
        return {"train": f"{y}..{y + a - 1}", "validate": f"{y + a}..{y + b - 1}", "test": f"{y + b}..{end.year}"}
    count = max(store.date_count, 3)
    step = datetime.timedelta(seconds=store.frequency_s)
    if store.frequency_s == MONTH_S:  # calendar months are not a fixed number of seconds
        dates = _months(store.start_date, store.end_date)
    else:
        dates = [store.start_date + i * step for i in range(count)]
    n = len(dates)
    a, b = max(1, int(n * 0.7)), max(2, int(n * 0.85))
    fine = store.frequency_s < DAY_S
    return {"train": f"{_day(dates[0], fine)}..{_day(dates[a - 1], fine)}",
            "validate": f"{_day(dates[a], fine)}..{_day(dates[b - 1], fine)}",
            "test": f"{_day(dates[b], fine)}..{_day(dates[n - 1], fine)}"}


def _months(start: datetime.datetime, end: datetime.datetime) -> list[datetime.datetime]:
    out, when = [], start
    while when <= end:
        out.append(when)
        when = when.replace(year=when.year + when.month // 12, month=when.month % 12 + 1)
    return out


def _variables_block(store: StoreMetadata) -> str:
    constants = [v for v in store.variables if v in store.constant_fields]
    prognostic = [v for v in store.variables if v not in constants]
    forcing = [*DATE_FORCINGS, *(SUB_DAILY_FORCINGS if store.frequency_s < DAY_S else ()),
               *constants]
    rows = [("prognostic", f"[{', '.join(prognostic)}]"), ("forcing", f"[{', '.join(forcing)}]"),
            ("normalise", "mean_std")]
    missing = sorted(store.variables_with_nans or ()) if store.variables_with_nans else []
    if missing:
        rows.append(("impute", "{ " + ", ".join(f"{v}: mean" for v in missing) + " }"))
    width = max(len(key) for key, _ in rows)
    body = "\n".join(f"  {key.ljust(width)} = {value}" for key, value in rows)
    return "{  // from the store's metadata: every variable that varies is prognostic\n" + body + "\n}"
