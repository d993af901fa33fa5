"""Check a whole experiment: find its blocks, check each and apply the cross-field rules.

The result is a ``CheckedExperiment``; the driver (``anemoic.compiler.api``) hands it to lowering, so
checking never writes a derived plan field and lowering never diagnoses."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from anemoic.compiler import ast
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import did_you_mean
from anemoic.compiler.modules import Program
from anemoic.compiler.typecheck import limited_area, rules, spatial, stretched
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo, check_dataset
from anemoic.compiler.typecheck.graph_model import Cutout, GraphParts, check_graph, check_model
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


def _sections(ctx: Context, program: Program
              ) -> tuple[dict[str, tuple[ast.Section, str]], list[tuple[ast.Section, str]]]:
    """The experiment's blocks, one of each kind, and its `variables` blocks: one per dataset (E0403 for two
    of one kind, or two `variables` blocks of one dataset)."""
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
    variables: list[tuple[ast.Section, str]] = []
    for kind, items in found.items():
        if kind == "variables":
            variables = _variables_blocks(ctx, items)
            continue
        if len(items) > 1:
            ctx.sink.error("E0403", f"the experiment has more than one `{kind}` block", items[1][0].span,
                           notes=(("the first is here", items[0][0].span),), hint="merge them into one")
        single[kind] = items[0]
    for kind, example in REQUIRED.items():
        if kind not in single and not (kind == "variables" and variables):
            ctx.sink.error("E0402", f"the experiment has no `{kind}` block", ctx.file_span(), hint=f"add `{example}`")
    return single, variables


def _variables_blocks(ctx: Context, items: list[tuple[ast.Section, str]]) -> list[tuple[ast.Section, str]]:
    """One `variables` block per dataset: a second one for the same dataset is E0403."""
    first: dict[str, ast.Section] = {}
    kept = []
    for section, key in items:
        name = section.name.id if section.name is not None else ""
        if name in first:
            ctx.sink.error("E0403", f"the experiment has more than one `variables` block for `{name}`", section.span,
                           notes=(("the first is here", first[name].span),), hint="merge them into one")
            continue
        first[name] = section
        kept.append((section, key))
    return kept


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
    boundary: limited_area.CheckedBoundary | None = None  # a limited-area model's surroundings
    source: spatial.CheckedSource | None = None  # a spatial downscaler's coarse dataset


def check_experiment(ctx: Context, program: Program, directory: Path, require_dataset: bool,
                     name: str) -> CheckedExperiment | None:
    """Check every block, reporting every mistake; None when there is one.

    The graph decides which dataset is the model's (a cut-out's region) and which one surrounds it (its
    boundary); each `variables` block is checked against its own dataset's store."""
    sections, var_sections = _sections(ctx, program)
    for binding in program.modules[ctx.main].bindings:  # report mistakes in definitions even if unused
        ctx.evaluator.binding(ctx.main, binding)
    if not var_sections or "task" not in sections or "train" not in sections:
        return None
    blocks = {section.name.id: section for section, _ in var_sections}  # type: ignore[union-attr]
    task_section, _ = sections["task"]
    model, graph = _network(ctx, task_section, next(iter(blocks)) if len(blocks) == 1 else None)
    model_dataset = graph.dataset if graph is not None else next(iter(blocks))
    cut = graph.cutout if graph is not None else None
    _unused_blocks(ctx, blocks, graph)
    if model_dataset not in blocks:
        if cut is not None:
            ctx.sink.error("E0402", f"the experiment has no `variables` block for the region `{model_dataset}`: "
                           "it defines the limited-area model's variables", cut.span,
                           hint=f"add `variables from {model_dataset} {{ prognostic = [...] }}` with the same "
                           f"variables as `variables from {cut.boundary.name}`")
        return None
    var_section = blocks[model_dataset]
    dataset_value = _named(ctx, var_section.name, "dataset", ctx.main)  # type: ignore[arg-type]
    if not isinstance(dataset_value, v.DatasetV):
        return None
    directories = {module.file: module.directory for module in program.modules.values()}
    directories[ctx.main_file] = directory
    info = check_dataset(ctx, dataset_value, directories, require_dataset)
    var_settings = ctx.read_block("variables", var_section.block, VARIABLE_SETTINGS)
    variables = check_variables(ctx, var_settings, info, var_section.span)
    task_settings = ctx.read_block("task", task_section.block, TASK_SETTINGS)
    task = check_task(ctx, v.Symbol(task_section.name.id, task_section.name.span),  # type: ignore[union-attr]
                      task_settings, task_section.span, info.frequency_s if info else None)
    mask_at = next((s.value.span for s in task_section.block.settings if s.key == "output_mask"), None) \
        if task_section.block else None
    mask = limited_area.output_mask(ctx, task_settings.get("output_mask"), mask_at, graph, task_section.span) \
        if "output_mask" in task_settings or "output_mask" not in task_settings.given else None
    if task is not None and mask is not None and mask.region is not None:
        task = dataclasses.replace(task, plan=dataclasses.replace(task.plan, output_mask=mask.region))
    boundary = _boundary(ctx, cut, blocks, directories, require_dataset, variables) if cut is not None else None
    if boundary is not None and mask is not None:
        boundary = dataclasses.replace(boundary, forced=mask.region is not None)
    source, source_ok = None, True
    if task is not None and graph is not None:
        downscaler = task.plan.kind == "spatial_downscaler"
        source_ok = spatial.source_mismatch(ctx, downscaler, graph.source, ctx.span_of("graph.name"),
                                            task_section.span) and spatial.not_a_cutout(ctx, downscaler, cut)
        if source_ok and downscaler and info is not None and variables is not None:
            source = spatial.check_source(ctx, graph.source, info, variables.variables,  # type: ignore[arg-type]
                                          directories, require_dataset)
            source_ok = source is not None
    if cut is not None and info is not None and boundary is not None:
        limited_area.time_aligned(ctx, info, boundary.dataset, task.plan.timestep_s if task is not None else None)
        limited_area.cutout_fits(ctx, cut, info, boundary.dataset)
    scored = stretched.Scored.of(graph, mask)
    loss = check_loss(ctx, task.loss, variables.indices.output, variables.levels, task.metrics, task.plan.method,
                      scored) if task is not None and variables is not None else None
    train_section, _ = sections["train"]
    train = check_train(ctx, ctx.read_block("train", train_section.block, TRAIN_SETTINGS), directories)
    parallel, site, outputs = _run_settings(ctx, sections, name)
    if cut is not None:
        limited_area.supported(ctx, cut, task.plan if task is not None else None, parallel)
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
        if task.plan.kind == "spatial_downscaler":
            spatial.unsharded(ctx, parallel)
    if task is not None and loss is not None and task.plan.kind == "spatial_downscaler":
        spatial.loss_weighs_points(ctx, loss.plan)
    data_parallel = rules.parallel_layout(ctx, parallel, model, train.fields["batch_size"]) \
        if parallel is not None and model is not None and train is not None else None
    if site is not None and outputs is not None:
        rules.site_time(ctx, site, outputs, "site" in sections)
    parts = (info, variables, task, model, graph, loss, train, parallel, site, outputs, data_parallel)
    if any(p is None for p in parts) or (cut is not None and boundary is None) or not source_ok \
            or ctx.sink.has_errors():
        return None
    ctx.mark("name", ctx.file_span())
    return CheckedExperiment(info, variables, graph, model, task, loss, train, parallel, site,  # type: ignore[arg-type]
                             outputs, data_parallel, ctx.source_map(), boundary, source)  # type: ignore[arg-type]


def _unused_blocks(ctx: Context, blocks: dict[str, ast.Section], graph: GraphParts | None) -> None:
    """A `variables` block for a dataset the model's graph does not use (E0510)."""
    if graph is None:
        return
    used = [graph.dataset] + ([graph.cutout.boundary.name] if graph.cutout is not None else [])
    built_on = f"cutout({graph.dataset}, {graph.cutout.boundary.name}, ...)" if graph.cutout else graph.dataset
    for dataset, section in blocks.items():
        if dataset in used or not isinstance(_named(ctx, section.name, "dataset", ctx.main),  # type: ignore[arg-type]
                                             v.DatasetV):  # a name that is no dataset: E0201 or E0702 said so
            continue
        if graph.dataset not in blocks:
            hint = f"write `variables from {graph.dataset} {{ ... }}`, or build the graph on `{dataset}`"
        else:
            hint = (f"remove this block, or make `{dataset}` the boundary of a limited-area model: build the graph "
                    f"on `cutout({graph.dataset}, {dataset}, margin_km = 300)`") if graph.cutout is None else \
                "remove this block: a limited-area model reads its region and its boundary dataset only"
        ctx.sink.error("E0510", f"`variables from {dataset}`: the model does not use the dataset `{dataset}` (its "
                       f"graph `{graph.name}` is built on `{built_on}`)",
                       section.name.span if section.name is not None else section.span, hint=hint)


def _boundary(ctx: Context, cut: Cutout, blocks: dict[str, ast.Section], directories: dict[str, Path],
              require: bool, region: VariablesResult | None) -> limited_area.CheckedBoundary | None:
    """The boundary dataset and its `variables` block, each checked against its own store."""
    info = limited_area.as_boundary(ctx, lambda: check_dataset(ctx, cut.boundary, directories, require,
                                                               periods_required=False))
    section = blocks.get(cut.boundary.name)
    checked = None
    if section is not None:
        settings = ctx.read_block("variables", section.block, VARIABLE_SETTINGS)
        checked = limited_area.as_boundary(ctx, lambda: check_variables(ctx, settings, info, section.span))
    if region is None or info is None:
        return None
    ordered = limited_area.boundary_variables(ctx, cut, region, checked,
                                              section.span if section is not None else None)
    return None if ordered is None else limited_area.CheckedBoundary(info, ordered, cut.margin_km)


def _network(ctx: Context, task_section: ast.Section,
             dataset_name: str | None) -> tuple[ModelPlan | None, GraphParts | None]:
    """The task's model and the graph it is given; the graph names the model's dataset(s)."""
    model_value = _named(ctx, task_section.ref, "model", ctx.main)  # type: ignore[arg-type]
    if not isinstance(model_value, v.NamedV):
        return None, None
    model = check_model(ctx, model_value, None)
    graph_value = model_value.value.get("graph") if isinstance(model_value.value, v.ComponentV) else None
    if model is None or not isinstance(graph_value, v.NamedV):
        return model, None
    return model, check_graph(ctx, graph_value, dataset_name)


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

