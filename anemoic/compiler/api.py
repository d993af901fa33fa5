"""The compiler's public API and its driver: source -> plans + diagnostics.

The phases run in order here: load (parse every module), check (``CheckedExperiment``), lower
(``Plan``), once per sweep member.  `check`, `build`, `explain`, `diff` and `graph` all call
``compile_file``; keep these signatures stable."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from anemoic.compiler import ast
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import (
    Diagnostic, Sink, Span, did_you_mean, render_json, render_text, sorted_diagnostics,
)
from anemoic.compiler.evaluate import Evaluator
from anemoic.compiler.init_fit import init_fit
from anemoic.compiler.lower.plan import lower
from anemoic.compiler.modules import Program, load_program
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.experiment import check_experiment
from anemoic.plan.model import Plan, SweepMemberPlan

MAX_SWEEP_MEMBERS = 256


@dataclass(frozen=True)
class CompileResult:
    plans: tuple[Plan, ...]  # 1, or N for a sweep; empty when there are errors
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    inputs: tuple[str, ...] = field(default=(), compare=False, repr=False)  # local module files probed
    stores: tuple[str, ...] = field(default=(), compare=False, repr=False)  # dataset stores looked at

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def render(self, fmt: str = "text") -> str:
        """The exact text `anemoic check` prints (``fmt`` is "text" or "json")."""
        if fmt == "json":
            return render_json(self.diagnostics, len(self.plans))
        return render_text(self.diagnostics, self.sources, len(self.plans))


def compile_file(path: str | Path, *, require_dataset: bool = False) -> CompileResult:
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return _failed("E0005", f"`{file}` is not UTF-8 text", file)
    except OSError as exc:
        return _failed("E0006", f"cannot read `{file}`: {exc.strerror or exc.__class__.__name__}", file)
    return _compile(text, file, path.resolve().parent, str(path.resolve()), require_dataset)


def compile_source(text: str, filename: str = "<string>", *, require_dataset: bool = False) -> CompileResult:
    """Compile text; relative paths resolve against the folder of ``filename`` (the cwd for ``<string>``)."""
    directory = Path(filename).resolve().parent if not filename.startswith("<") else Path.cwd()
    return _compile(text, filename, directory, filename, require_dataset)


def _failed(code: str, message: str, file: str) -> CompileResult:
    return CompileResult((), (Diagnostic(code, message, Span(file, 1, 1, 1, 2)),), {})


def _compile(text: str, file: str, directory: Path, key: str, require_dataset: bool) -> CompileResult:
    sink = Sink()
    try:
        program = load_program(text, file, directory, key, sink)
        plans = _plans(program, sink, file, directory, key, require_dataset) if key in program.modules else []
        sources, inputs, stores = program.sources, tuple(program.probed), tuple(program.stores)
    except RecursionError:
        sink.error("E0004", "this file is nested too deeply to check", Span(file, 1, 1, 1, 2),
                   hint="split long expressions into `let` bindings")
        plans, sources, inputs, stores = [], {file: text}, (), ()
    diagnostics = sorted_diagnostics(sink.items)
    if any(d.severity == "error" for d in diagnostics):
        plans = []
    return CompileResult(tuple(plans), diagnostics, sources, inputs, stores)


def _experiment_name(file: str) -> str:
    stem = Path(file).stem if not file.startswith("<") else "experiment"
    return stem or "experiment"


def _sweep_members(program: Program, key: str, sink: Sink) -> list[dict[str, v.Value]]:
    evaluator = Evaluator(program, sink)
    module = program.modules[key]
    axes: list[tuple[str, list[v.Value]]] = []
    seen: dict[str, Span] = {}
    for decl in module.tree.decls:
        if not isinstance(decl, ast.Sweep):
            continue
        name = decl.name.id
        if name in seen:
            sink.error("E0304", f"`{name}` is swept twice", decl.name.span, notes=(("first swept here", seen[name]),))
            continue
        seen[name] = decl.name.span
        binding = module.bindings.get(name)
        if binding is None or binding.kind != "let":
            lets = [n for n, b in module.bindings.items() if b.kind == "let"]
            sink.error("E1201", f"`sweep {name}` needs a `let {name} = ...` in this file to vary", decl.name.span,
                       hint=did_you_mean(name, lets, f"add `let {name} = ...` and use `{name}` where it applies"))
            continue
        values = evaluator.eval(decl.values, key)
        if not isinstance(values, v.ListV) or not values.items:
            sink.error("E1202", f"`sweep {name} in ...` needs a non-empty list of values", decl.values.span,
                       hint=f"write `sweep {name} in [1e-3, 3e-4]`")
            continue
        axes.append((name, list(values.items)))
    count = 1
    for _, items in axes:
        count *= len(items)
    if count > MAX_SWEEP_MEMBERS:
        sink.error("E1203", f"the sweep makes {count} plans, more than {MAX_SWEEP_MEMBERS}",
                   next(iter(seen.values())), hint="sweep fewer values, or split the sweep into several files")
        return []
    return [dict(zip([n for n, _ in axes], combo)) for combo in itertools.product(*[i for _, i in axes])]


def _scalar(value: v.Value) -> object:
    if isinstance(value, (v.Num, v.Str, v.Bool)):
        return value.value
    if isinstance(value, v.Word):
        return value.text
    if isinstance(value, v.Symbol):
        return value.name
    return v.describe(value)


def _plans(program: Program, sink: Sink, file: str, directory: Path, key: str, require: bool) -> list[Plan]:
    name = _experiment_name(file)
    has_sweep = any(isinstance(d, ast.Sweep) for d in program.modules[key].tree.decls)
    members = _sweep_members(program, key, sink) if has_sweep else [{}]
    if sink.has_errors():
        members = [{}]  # still check the experiment itself, to report everything at once
        has_sweep = False
    plans = []
    for index, member in enumerate(members):
        evaluator = Evaluator(program, sink, {(key, n): val for n, val in member.items()})
        ctx = Context(sink, evaluator, key, file)
        sweeps = [d for d in program.modules[key].tree.decls if isinstance(d, ast.Sweep)]
        if has_sweep and sweeps:
            ctx.mark("sweep", sweeps[0].span)
            for decl in sweeps:
                ctx.mark(f"sweep.values.{decl.name.id}", decl.values.span)
        sweep = SweepMemberPlan(sweep=name, index=index, count=len(members),
                                values={n: _scalar(val) for n, val in member.items()}) if has_sweep else None
        checked = check_experiment(ctx, program, directory, require, name)
        if checked is not None:
            plan = lower(checked, name, sweep)
            for diagnostic in init_fit(plan):  # the init checkpoint, when it is there already
                sink.add(diagnostic)
            plans.append(plan)
    return plans
