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
        if needed > length and task.kind == "temporal_downscaler":
            ctx.sink.error(
                "E0803", f"the `{key}` period ({period.start.date()} to {period.end.date()}) is too short for the "
                f"downscaler's inputs, {format_duration(needed)} apart", period.span,
                notes=(("the inputs are set here", ctx.span_of("task.input_offsets")),),
                hint=f"one sample needs {format_duration(needed)} of data; lengthen the period")
        elif needed > length:
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
    if shards > 1 and parallel.shard_strategy == "heads" and has_attention(model) and model.heads % shards:
        problem = (f"the model has {model.heads} attention heads, too few to shard over {shards} GPUs"
                   if model.heads < shards else
                   f"the model's {model.heads} attention heads cannot be split evenly over {shards} GPUs")
        ctx.sink.error("E1003", f"{problem} (`shard = heads`)", where,
                       notes=(("`shard = heads` is set here", ctx.span_of("parallel.shard_strategy")),),
                       hint=f"with `shard = heads` each GPU of a model group attends with `heads / gpus_per_model` "
                       f"heads: make `heads` a multiple of {shards}, or shard by `edges`")
        ok = False
    if shards > 1 and batch_size != 1:
        ctx.sink.error("E1004", f"`batch` is {batch_size}, but a model sharded over {shards} GPUs trains "
                       "with one sample per model group", ctx.span_of("training.batch_size"),
                       hint="set `batch = 1`; add GPUs or `accumulate` to grow the effective batch")
        ok = False
    ok = sharding_settings(ctx, parallel, model) and ok
    return world // shards if ok else None


def downscaler_unsharded(ctx: Context, parallel: ParallelPlan, task: TaskPlan) -> None:
    """A downscaler on a sharded model: its several output states per node have not been run (nor tested for
    layout parity) through the model groups' exchanges yet."""
    if task.kind == "temporal_downscaler" and parallel.gpus_per_model > 1:
        ctx.sink.error("E1414", f"training a temporal downscaler on a model sharded over {parallel.gpus_per_model} "
                       "GPUs is not executed by this runtime yet", ctx.span_of("parallel.gpus_per_model"),
                       hint="use `gpus_per_model = 1`: each GPU holds a whole model; add GPUs as data parallelism")


def ensemble_of_single_states(ctx: Context, dataset: DatasetInfo, method: MethodPlan) -> None:
    """The ensemble method grows one analysed state into its members; a store of ensemble members (anemoi's
    ensemble dimension above 1) would need those members paired with the model's, which is not executed yet."""
    stored = dataset.metadata.ensemble_size if dataset.metadata is not None else 1
    if method.kind == "ensemble" and stored > 1:
        ctx.sink.error("E1412", f"training an ensemble on a store that holds {stored} ensemble members is not "
                       "executed by this runtime yet", ctx.span_of("task.method"),
                       hint="train the ensemble on a store of single states (one ensemble member)")


def ensemble_unsharded(ctx: Context, parallel: ParallelPlan, method: MethodPlan) -> None:
    """An ensemble on a sharded model would need every rank of a model group to draw its members' noise and
    reduce the members' scores together, which is not executed (nor tested for layout parity) yet."""
    if method.kind == "ensemble" and parallel.gpus_per_model > 1:
        ctx.sink.error("E1413", f"training an ensemble on a model sharded over {parallel.gpus_per_model} GPUs "
                       "is not executed by this runtime yet", ctx.span_of("parallel.gpus_per_model"),
                       notes=(("the ensemble method is set here", ctx.span_of("task.method")),),
                       hint="use `gpus_per_model = 1` for an ensemble: each GPU holds a whole model and its members")


def autoencoder_unsharded(ctx: Context, parallel: ParallelPlan, task: TaskPlan) -> None:
    """The autoencoder's model runs no processor, and a model group shards the processor with the mappers; an
    autoencoder on a sharded model is not executed (nor tested for layout parity) yet."""
    if task.kind == "autoencoder" and parallel.gpus_per_model > 1:
        ctx.sink.error("E1416", f"training an autoencoder on a model sharded over {parallel.gpus_per_model} GPUs "
                       "is not executed by this runtime yet", ctx.span_of("parallel.gpus_per_model"),
                       hint="use `gpus_per_model = 1` for an autoencoder: each GPU holds a whole model")


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


def has_attention(model: ModelPlan) -> bool:
    """Whether any block of the model attends with heads (what `shard = heads` splits)."""
    return model.processor in ("graphtransformer", "transformer") or "graphtransformer" in (model.encoder,
                                                                                          model.decoder)


def sharding_settings(ctx: Context, parallel: ParallelPlan, model: ModelPlan) -> bool:
    """`shard`, `read_group` and `keep_batch_sharded`: each must have an effect and fit the model groups."""
    shards, group = parallel.gpus_per_model, parallel.read_group_size
    ok = True
    written = ctx.spans
    for path, word in (("parallel.shard_strategy", "shard"), ("parallel.keep_batch_sharded", "keep_batch_sharded")):
        if shards == 1 and path in written and (path != "parallel.keep_batch_sharded" or parallel.keep_batch_sharded):
            ctx.sink.error("E1406", f"`{word}` has no effect: the model is not sharded (`gpus_per_model` is 1)",
                           written[path], hint=f"remove `{word}`, or shard the model with `gpus_per_model` above 1")
            ok = False
    if shards > 1 and parallel.shard_strategy == "heads" and not has_attention(model):
        ctx.sink.error("E1406", f"`shard = heads` has no effect: no block of the model attends with heads "
                       f"(processor `{model.processor}`, mappers `{model.encoder}`/`{model.decoder}`)",
                       ctx.span_of("parallel.shard_strategy"),
                       hint="remove `shard`: blocks without heads are sharded by destination nodes (`edges`)")
        ok = False
    if shards % group:
        ctx.sink.error("E1005", f"`read_group` is {group}, which does not divide `gpus_per_model` ({shards}): a read "
                       "group lies inside one model group", ctx.span_of("parallel.read_group_size"),
                       hint=f"use a divisor of {shards}; `read_group = {shards}` means no rank reads the whole grid"
                       if shards > 1 else "remove `read_group`, or shard the model (`gpus_per_model` above 1) and "
                       "let its ranks read a sample together")
        ok = False
    elif parallel.keep_batch_sharded and shards > 1 and group != shards:
        ctx.sink.error("E1009", f"`read_group` is {group}, but with `keep_batch_sharded` each of the {shards} ranks "
                       "of a model group reads and keeps its own grid shard", ctx.span_of("parallel.read_group_size"),
                       notes=(("`keep_batch_sharded` is set here", ctx.span_of("parallel.keep_batch_sharded")),),
                       hint=f"remove `read_group` (it is then {shards})")
        ok = False
    return ok


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
