"""Cross-field rules: checks that need several blocks at once (rollout vs periods,
parallel layout vs model, site time limit vs checkpoint cadence)."""

from __future__ import annotations

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.plan.model import MethodPlan, ModelPlan, OutputsPlan, ParallelPlan, SitePlan, TaskPlan
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


def ensemble_of_single_states(ctx: Context, dataset: DatasetInfo, method: MethodPlan) -> None:
    """The ensemble method grows one analysed state into its members; a store of ensemble members (anemoi's
    ensemble dimension above 1) would need those members paired with the model's, which is not executed yet."""
    stored = dataset.metadata.ensemble_size if dataset.metadata is not None else 1
    if method.kind == "ensemble" and stored > 1:
        ctx.sink.error("E1412", f"training an ensemble on a store that holds {stored} ensemble members is not "
                       "executed by this runtime yet", ctx.span_of("task.method"),
                       hint="train the ensemble on a store of single states (one ensemble member)")


def ensemble_per_device(ctx: Context, value: v.Value | None, method: MethodPlan) -> None:
    """``parallel { ensemble_per_device = n }``: the members one device holds, a divisor of the ensemble's members.

    Every device holds all members of its samples (n = members); spreading an ensemble over devices
    (anemoi's ensemble groups) is designed but not executed yet, so it is refused here."""
    if value is None:
        return
    per_device = coerce.integer(value, ctx.sink, "`ensemble_per_device`", minimum=1)
    if per_device is None:
        return
    if method.kind != "ensemble":
        ctx.sink.error("E1407", f"`ensemble_per_device` has no effect: the task's method is {method.kind}",
                       value.span, hint="remove it, or train an ensemble: `method = ensemble(members = 4)`")
        return
    members = method.members
    where = ctx.span_of("task.method.members")
    if members % per_device:
        divisors = [str(n) for n in range(1, members + 1) if members % n == 0]
        ctx.sink.error("E1008", f"`ensemble_per_device` is {per_device}, which does not divide the ensemble's "
                       f"{members} members", value.span, notes=(("the members are set here", where),),
                       hint=f"use one of {', '.join(divisors)}")
    elif per_device < members:
        ctx.sink.error("E1411", f"spreading the ensemble's {members} members over {members // per_device} devices "
                       f"(`ensemble_per_device = {per_device}`) is not executed by this runtime yet", value.span,
                       hint=f"use `ensemble_per_device = {members}`: each device then holds every member of its "
                       "samples")


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
