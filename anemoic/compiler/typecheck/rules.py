"""Cross-field rules: checks that need several blocks at once (rollout vs periods,
parallel layout vs model, site time limit vs checkpoint cadence)."""

from __future__ import annotations

from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.plan.model import ModelPlan, OutputsPlan, ParallelPlan, SitePlan, TaskPlan
from anemoic.plan.units import format_duration
from anemoic.plan.windows import window_length


def rollout_fits(ctx: Context, dataset: DatasetInfo, task: TaskPlan) -> None:
    """Every period must hold the input steps plus the longest rollout it is used with."""
    for key, period in dataset.periods.items():
        split = "train" if key == "train" else "validate"
        rollout = task.rollout.maximum if split == "train" else task.rollout.validation
        needed = (window_length(task, split) - 1) * task.timestep_s
        length = int((period.end - period.start).total_seconds())
        if needed > length:
            ctx.sink.error(
                "E0803", f"the `{key}` period ({period.start.date()} to {period.end.date()}) is too short for "
                f"{task.multistep_input} input step(s) and a rollout of {rollout} step(s) of "
                f"{format_duration(task.timestep_s)}", period.span,
                notes=(("the rollout is set here", ctx.span_of("task.rollout")),),
                hint=f"one sample needs {format_duration(needed)} of data; lengthen the period or shorten the rollout")


def parallel_layout(ctx: Context, parallel: ParallelPlan, model: ModelPlan, batch_size: int) -> int | None:
    """The data-parallel size, or None after a diagnostic."""
    world = parallel.nodes * parallel.processes_per_node
    shards = parallel.gpus_per_model
    where = ctx.span_of("parallel.gpus_per_model")
    ok = True
    if shards & (shards - 1):
        ctx.sink.error("E1001", f"`gpus_per_model` is {shards}; model sharding needs a power of two", where,
                       hint="use 1, 2, 4 or 8")
        ok = False
    if world % shards:
        ctx.sink.error("E1002", f"{world} GPUs ({parallel.nodes} node(s) x {parallel.processes_per_node}) cannot be "
                       f"split into model groups of {shards}", where,
                       hint="`gpus_per_model` must divide nodes x gpus_per_node")
        ok = False
    if shards > 1 and model.processor in ("graphtransformer", "transformer") and shards > model.heads:
        ctx.sink.error("E1003", f"the model has {model.heads} attention heads, too few to shard over {shards} GPUs",
                       where, hint="`gpus_per_model` must not exceed `heads`")
        ok = False
    if shards > 1 and batch_size != 1:
        ctx.sink.error("E1004", f"`batch` is {batch_size}, but a model sharded over {shards} GPUs trains "
                       "with one sample per model group", ctx.span_of("training.batch_size"),
                       hint="set `batch = 1`; add GPUs or `accumulate` to grow the effective batch")
        ok = False
    return world // shards if ok else None


def site_time(ctx: Context, site: SitePlan, outputs: OutputsPlan, has_site: bool) -> None:
    if not has_site or outputs.checkpoint_every_minutes is None:
        return
    needed = outputs.checkpoint_every_minutes * 60 + site.signal_lead_s
    if site.time_limit_s <= needed:
        ctx.sink.error("E1101", f"the site's time limit ({format_duration(site.time_limit_s)}) is not longer than the "
                       f"checkpoint interval plus the signal lead ({format_duration(needed)})",
                       ctx.span_of("site.time_limit_s"),
                       notes=(("checkpoint cadence set here", ctx.span_of("outputs.checkpoint_every_minutes")),),
                       hint="a job would be stopped before it ever writes a checkpoint; raise `time` or checkpoint "
                       "more often")
