"""Check a whole experiment: find its blocks, check each and apply the cross-field rules.

The result is a ``CheckedExperiment``; the driver (``anemoic.compiler.api``) hands it to lowering, so
checking never writes a derived plan field and lowering never diagnoses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anemoic.compiler import ast
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import did_you_mean
from anemoic.compiler.modules import Program
from anemoic.compiler.typecheck import rules, spatial
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo, check_dataset
from anemoic.compiler.typecheck.graph_model import GraphParts, check_graph, check_model
from anemoic.compiler.typecheck.loss import CheckedLoss, check_loss
from anemoic.compiler.typecheck.run_settings import (
    OUTPUTS, PARALLEL, SITE, TRACKING, check_outputs, check_parallel, check_site, check_tracking,
)
from anemoic.compiler.typecheck.task import SETTINGS as TASK_SETTINGS
from anemoic.compiler.typecheck.task import CheckedTask, check_task
from anemoic.compiler.typecheck.training import SETTINGS as TRAIN_SETTINGS
from anemoic.compiler.typecheck.training import CheckedTraining, check_train
from anemoic.compiler.typecheck.variables import SETTINGS as VARIABLE_SETTINGS
from anemoic.compiler.typecheck.variables import VariablesResult, check_variables
from anemoic.plan.model import ModelPlan, OutputsPlan, ParallelPlan, SitePlan

REQUIRED = {"variables": "variables from era5 { prognostic = [...] }", "task": "task forecast(net) { ... }",
            "train": "train { epochs = 10 }"}


def _sections(ctx: Context, program: Program) -> dict[str, tuple[ast.Section, str]]:
    found: dict[str, list[tuple[ast.Section, str]]] = {}
    main = program.modules[ctx.main]
    for decl in main.tree.decls:
        if isinstance(decl, ast.Section):
            found.setdefault(decl.kind, []).append((decl, ctx.main))
    for key in main.local_imports:
        for decl in program.modules[key].tree.decls:
            if not isinstance(decl, ast.Section):
                continue
            if decl.kind == "site":
                found.setdefault("site", []).append((decl, key))
            else:
                ctx.sink.error("E0305", f"a `{decl.kind}` block belongs in the experiment file, not in an imported "
                               "module", decl.span, hint="imported modules may hold `let` definitions and a `site`")
    single = {}
    for kind, items in found.items():
        if len(items) > 1:
            ctx.sink.error("E0403", f"the experiment has more than one `{kind}` block", items[1][0].span,
                           notes=(("the first is here", items[0][0].span),), hint="merge them into one")
        single[kind] = items[0]
    for kind, example in REQUIRED.items():
        if kind not in single:
            ctx.sink.error("E0402", f"the experiment has no `{kind}` block", ctx.file_span(), hint=f"add `{example}`")
    return single


def _named(ctx: Context, name: ast.Name, kind: str, module_key: str) -> v.Value | None:
    value = ctx.evaluator.lookup(module_key, name.id, name)
    wanted = (lambda x: isinstance(x, v.DatasetV)) if kind == "dataset" else \
        (lambda x: isinstance(x, v.NamedV) and x.kind == kind)
    if value is not None and wanted(value):
        return value
    if isinstance(value, v.Symbol):
        module = ctx.evaluator.program.modules[module_key]
        same = [n for n, b in module.bindings.items() if b.kind == kind]
        ctx.sink.error("E0201", f"there is no {kind} named `{name.id}`", name.span,
                       hint=did_you_mean(name.id, same, f"declare it: `{kind} {name.id} = ...`"))
    elif value is not None:
        ctx.sink.error("E0702", f"`{name.id}` is {v.describe(value)}, not a {kind}", name.span)
    return None


@dataclass(frozen=True)
class CheckedExperiment:
    """Every block checked, nothing derived yet: what lowering turns into a plan (``anemoic.compiler.lower``)."""

    dataset: DatasetInfo
    variables: VariablesResult
    graph: GraphParts
    model: ModelPlan
    task: CheckedTask
    loss: CheckedLoss
    training: CheckedTraining
    parallel: ParallelPlan
    site: SitePlan
    outputs: OutputsPlan
    data_parallel: int
    source_map: dict[str, str]
    source: spatial.CheckedSource | None = None  # a spatial downscaler's coarse dataset


def check_experiment(ctx: Context, program: Program, directory: Path, require_dataset: bool,
                     name: str) -> CheckedExperiment | None:
    """Check every block, reporting every mistake; None when there is one."""
    sections = _sections(ctx, program)
    for binding in program.modules[ctx.main].bindings:  # report mistakes in definitions even if unused
        ctx.evaluator.binding(ctx.main, binding)
    if "variables" not in sections or "task" not in sections or "train" not in sections:
        return None
    var_section, _ = sections["variables"]
    dataset_value = _named(ctx, var_section.name, "dataset", ctx.main)  # type: ignore[arg-type]
    if not isinstance(dataset_value, v.DatasetV):
        return None
    directories = {module.file: module.directory for module in program.modules.values()}
    directories[ctx.main_file] = directory
    info = check_dataset(ctx, dataset_value, directories, require_dataset)
    variables = check_variables(ctx, ctx.read_block("variables", var_section.block, VARIABLE_SETTINGS), info,
                                var_section.span)
    task_section, _ = sections["task"]
    task = check_task(ctx, v.Symbol(task_section.name.id, task_section.name.span),  # type: ignore[union-attr]
                      ctx.read_block("task", task_section.block, TASK_SETTINGS), task_section.span,
                      info.frequency_s if info else None)
    model, graph = _network(ctx, task_section, dataset_value.name)
    source, source_ok = None, True
    if task is not None and graph is not None:
        downscaler = task.plan.kind == "spatial_downscaler"
        source_ok = spatial.source_mismatch(ctx, downscaler, graph.source, ctx.span_of("graph.name"),
                                            task_section.span)
        if source_ok and downscaler and info is not None and variables is not None:
            source = spatial.check_source(ctx, graph.source, info, variables.variables,  # type: ignore[arg-type]
                                          directories, require_dataset)
            source_ok = source is not None
    loss = check_loss(ctx, task.loss, variables.indices.output, variables.levels, task.metrics, task.plan.method) \
        if task is not None and variables is not None else None
    train_section, _ = sections["train"]
    train = check_train(ctx, ctx.read_block("train", train_section.block, TRAIN_SETTINGS), directories)
    parallel, site, outputs = _run_settings(ctx, sections, name)
    if info is not None and task is not None:
        rules.rollout_fits(ctx, info, task.plan)
        rules.ensemble_of_single_states(ctx, info, task.plan.method)
    if task is not None and "parallel" in sections:
        rules.ensemble_per_device(ctx, _parallel_setting(ctx, sections, "ensemble_per_device"), task.plan.method)
    if task is not None and parallel is not None:
        rules.ensemble_unsharded(ctx, parallel, task.plan.method)
        rules.downscaler_unsharded(ctx, parallel, task.plan)
        rules.autoencoder_unsharded(ctx, parallel, task.plan)
        if task.plan.kind == "spatial_downscaler":
            spatial.unsharded(ctx, parallel)
    if task is not None and loss is not None and task.plan.kind == "spatial_downscaler":
        spatial.loss_weighs_points(ctx, loss.plan)
    data_parallel = rules.parallel_layout(ctx, parallel, model, train.fields["batch_size"]) \
        if parallel is not None and model is not None and train is not None else None
    if site is not None and outputs is not None:
        rules.site_time(ctx, site, outputs, "site" in sections)
    parts = (info, variables, task, model, graph, loss, train, parallel, site, outputs, data_parallel)
    if any(p is None for p in parts) or not source_ok or ctx.sink.has_errors():
        return None
    ctx.mark("name", ctx.file_span())
    return CheckedExperiment(info, variables, graph, model, task, loss, train, parallel, site,  # type: ignore[arg-type]
                             outputs, data_parallel, ctx.source_map(), source)  # type: ignore[arg-type]


def _network(ctx: Context, task_section: ast.Section, dataset_name: str) -> tuple[ModelPlan | None, GraphParts | None]:
    """The task's model and the graph it is given, which must be built on the experiment's dataset."""
    model_value = _named(ctx, task_section.ref, "model", ctx.main)  # type: ignore[arg-type]
    if not isinstance(model_value, v.NamedV):
        return None, None
    model = check_model(ctx, model_value, None)
    graph_value = model_value.value.get("graph") if isinstance(model_value.value, v.ComponentV) else None
    if model is None or not isinstance(graph_value, v.NamedV):
        return model, None
    graph = check_graph(ctx, graph_value, dataset_name)
    if graph is not None and graph.dataset != dataset_name:
        ctx.sink.error("E0702", f"the graph `{graph.name}` is built on `{graph.dataset}` but the variables come "
                       f"from `{dataset_name}`", graph_value.span)
        return model, None
    return model, graph


def _run_settings(ctx: Context, sections: dict[str, tuple[ast.Section, str]],
                  name: str) -> tuple[ParallelPlan | None, SitePlan | None, OutputsPlan | None]:
    """``parallel``, ``site``, ``outputs`` and ``tracking``: all optional, with defaults."""
    parallel = _optional(ctx, sections, "parallel", PARALLEL, lambda s, _: check_parallel(ctx, s), ParallelPlan())
    site = _optional(ctx, sections, "site", SITE,
                     lambda s, sec: check_site(ctx, sec.name.id if sec.name else "site", s), SitePlan())
    if "tracking" in sections:
        section, key = sections["tracking"]
        settings = ctx.read_block("tracking", section.block, TRACKING, key) if section.block else None
        value = ctx.evaluator.eval(section.value, key) if section.value is not None else None
        tracking = check_tracking(ctx, settings, value, name)
    else:
        tracking = check_tracking(ctx, {}, None, name)
    if tracking is None:
        return parallel, site, None
    outputs = _optional(ctx, sections, "outputs", OUTPUTS,
                        lambda s, _: check_outputs(ctx, s, f"runs/{name}", tracking), None)
    if outputs is None and "outputs" not in sections:
        outputs = check_outputs(ctx, {}, f"runs/{name}", tracking)
    return parallel, site, outputs


def _parallel_setting(ctx: Context, sections: dict[str, tuple[ast.Section, str]], key: str) -> v.Value | None:
    """A setting of the `parallel` block that a cross-field rule reads (the block itself was checked already)."""
    section, module_key = sections["parallel"]
    for setting in section.block.settings if section.block else ():
        if setting.key == key:
            return ctx.evaluator.eval(setting.value, module_key)
    return None


def _optional(ctx: Context, sections: dict[str, tuple[ast.Section, str]], kind: str, allowed: tuple[str, ...],
              check, default):  # type: ignore[no-untyped-def]
    if kind not in sections:
        return default
    section, key = sections[kind]
    return check(ctx.read_block(kind, section.block, allowed, key), section)

