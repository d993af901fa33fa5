"""Training settings, parallel layout, site (SLURM), outputs and tracking blocks."""

from __future__ import annotations

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.typecheck.arguments import argument, component, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.plan.model import (
    OptimiserPlan, OutputsPlan, ParallelPlan, SchedulePlan, SitePlan, TrackingPlan, TrainingPlan,
)

TRAIN = ("epochs", "batch", "lr", "optimiser", "precision", "gradient_clip", "clip_by", "accumulate", "ema",
         "early_stopping", "time_limit", "max_steps", "limit_batches", "deterministic", "workers", "prefetch",
         "pin_memory", "seed", "scale_lr")
PARALLEL = ("nodes", "gpus_per_node", "gpus_per_model", "read_group", "ensemble_per_device", "shard", "accelerator")
SITE = ("partition", "account", "qos", "time", "cpus_per_task", "mem", "modules", "venv", "signal_lead",
        "device_memory", "directives")
OUTPUTS = ("run_dir", "checkpoint_every", "keep_last")
TRACKING = ("uri", "experiment", "run_name", "system_metrics")
PRECISIONS = {"32": "32", "fp32": "32", "bf16": "bf16-mixed", "16": "16-mixed", "fp16": "16-mixed"}


def _set(ctx: Context, settings: dict[str, v.Value], key: str, path: str, read, out: dict, name: str) -> None:
    if key in settings:
        ctx.mark(path, settings[key])
        result = read(settings[key])
        if result is None:
            out["__failed__"] = True
        else:
            out[name] = result


def check_train(ctx: Context, s: dict[str, v.Value]) -> tuple[TrainingPlan, int, bool] | None:
    """The training plan (effective LR still unscaled), the seed and whether to scale the LR."""
    out: dict = {}
    sink = ctx.sink
    t = "training."
    _set(ctx, s, "epochs", t + "epochs", lambda x: coerce.integer(x, sink, "`epochs`", 1), out, "epochs")
    _set(ctx, s, "batch", t + "batch_size", lambda x: coerce.integer(x, sink, "`batch`", 1), out, "batch_size")
    _set(ctx, s, "precision", t + "precision",
         lambda x: PRECISIONS.get(coerce.choice(x, sink, "`precision`", tuple(PRECISIONS)) or ""), out, "precision")
    _set(ctx, s, "gradient_clip", t + "gradient_clip", lambda x: coerce.number(x, sink, "`gradient_clip`", True),
         out, "gradient_clip")
    _set(ctx, s, "clip_by", t + "gradient_clip_algorithm",
         lambda x: coerce.choice(x, sink, "`clip_by`", ("value", "norm")), out, "gradient_clip_algorithm")
    _set(ctx, s, "accumulate", t + "accumulate_grad_batches", lambda x: coerce.integer(x, sink, "`accumulate`", 1),
         out, "accumulate_grad_batches")
    _set(ctx, s, "ema", t + "ema_decay", lambda x: coerce.number(x, sink, "`ema`", True), out, "ema_decay")
    _set(ctx, s, "early_stopping", t + "early_stopping_patience",
         lambda x: coerce.integer(x, sink, "`early_stopping`", 1), out, "early_stopping_patience")
    _set(ctx, s, "time_limit", t + "time_limit_s", lambda x: coerce.duration(x, sink, "`time_limit`"), out,
         "time_limit_s")
    _set(ctx, s, "max_steps", t + "max_steps", lambda x: coerce.integer(x, sink, "`max_steps`", 1), out, "max_steps")
    _set(ctx, s, "limit_batches", t + "limit_batches_per_epoch",
         lambda x: coerce.integer(x, sink, "`limit_batches`", 1), out, "limit_batches_per_epoch")
    _set(ctx, s, "deterministic", t + "deterministic", lambda x: coerce.boolean(x, sink, "`deterministic`"), out,
         "deterministic")
    _set(ctx, s, "workers", t + "num_workers", lambda x: coerce.integer(x, sink, "`workers`", 0), out, "num_workers")
    _set(ctx, s, "prefetch", t + "prefetch_factor", lambda x: coerce.integer(x, sink, "`prefetch`", 1), out,
         "prefetch_factor")
    _set(ctx, s, "pin_memory", t + "pin_memory", lambda x: coerce.boolean(x, sink, "`pin_memory`"), out, "pin_memory")
    extra: dict = {}
    _set(ctx, s, "seed", "seed", lambda x: coerce.integer(x, sink, "`seed`", 0), extra, "seed")
    _set(ctx, s, "scale_lr", "training.optimiser.effective_lr", lambda x: coerce.boolean(x, sink, "`scale_lr`"),
         extra, "scale_lr")
    optimiser, schedule = _learning_rate(ctx, s)
    missing = getattr(s, "missing", lambda k: k not in s)
    if missing("epochs") and missing("max_steps"):
        sink.error("E1006", "`train` needs `epochs` (or `max_steps`)", ctx.file_span(), hint="add `epochs = 10`")
        return None
    if out.pop("__failed__", False) or extra.pop("__failed__", False) or optimiser is None or schedule is None:
        return None
    out.setdefault("epochs", 1)
    out.setdefault("batch_size", 1)
    return TrainingPlan(optimiser=optimiser, schedule=schedule, **out), extra.get("seed", 42), \
        extra.get("scale_lr", True)


def _learning_rate(ctx: Context, s: dict[str, v.Value]) -> tuple[OptimiserPlan | None, SchedulePlan | None]:
    optimiser, schedule = OptimiserPlan(), SchedulePlan()
    if "optimiser" in s:
        adamw = component(ctx, s["optimiser"], "optimiser", "`optimiser`", "adamw(weight_decay = 0.1)")
        if adamw is None:
            return None, None
        betas, decay = argument(ctx, adamw, "betas", "training.optimiser.betas"), \
            argument(ctx, adamw, "weight_decay", "training.optimiser.weight_decay")
        if failed(betas, decay) or len(betas) != 2:  # type: ignore[arg-type]
            if not failed(betas):
                ctx.sink.error("E0103", "`betas` needs two numbers such as `[0.9, 0.95]`", adamw.span)
            return None, None
        optimiser = OptimiserPlan(kind="adamw", betas=tuple(betas), weight_decay=float(decay))  # type: ignore
    if "lr" not in s:
        return optimiser, schedule
    value = s["lr"]
    ctx.mark("training.optimiser.lr", value)
    rate_value, schedule_value = (value.left, value.right) if isinstance(value, v.OpV) and value.op == "with" \
        else (value, None)
    rate = coerce.number(rate_value, ctx.sink, "`lr`", positive=True)
    if rate is None:
        return None, None
    if rate >= 1:
        ctx.sink.warn("W1001", f"a learning rate of {rate} is unusually large", rate_value.span,
                      hint="typical rates are 1e-5 to 1e-3")
    optimiser = OptimiserPlan(optimiser.kind, rate, rate, optimiser.betas, optimiser.weight_decay)
    if schedule_value is not None:
        ctx.mark("training.schedule", schedule_value)
        chosen = component(ctx, schedule_value, "schedule", "the schedule after `with`", "cosine(warmup = 1000)")
        if chosen is None:
            return None, None
        warmup = argument(ctx, chosen, "warmup", "training.schedule.warmup_steps")
        if chosen.builtin == "cosine":
            min_lr, total = argument(ctx, chosen, "min_lr", "training.schedule.min_lr"), \
                argument(ctx, chosen, "total_steps", "training.schedule.total_steps")
            if failed(warmup, min_lr, total):
                return None, None
            schedule = SchedulePlan("cosine", int(warmup), float(min_lr), total)  # type: ignore[arg-type]
        else:
            if failed(warmup):
                return None, None
            schedule = SchedulePlan("constant", int(warmup), 0.0, None)  # type: ignore[arg-type]
    return optimiser, schedule


def check_parallel(ctx: Context, s: dict[str, v.Value]) -> ParallelPlan | None:
    out: dict = {}
    sink = ctx.sink
    p = "parallel."
    for key, field in (("nodes", "nodes"), ("gpus_per_node", "processes_per_node"),
                       ("gpus_per_model", "gpus_per_model")):
        _set(ctx, s, key, p + field, lambda x, k=key: coerce.integer(x, sink, f"`{k}`", 1), out, field)
    _set(ctx, s, "accelerator", p + "accelerator",
         lambda x: coerce.choice(x, sink, "`accelerator`", ("auto", "gpu", "cpu")), out, "accelerator")
    if out.pop("__failed__", False):
        return None
    return ParallelPlan(**out)


def check_site(ctx: Context, name: str, s: dict[str, v.Value]) -> SitePlan | None:
    out: dict = {"name": name}
    sink = ctx.sink
    p = "site."
    for key in ("partition", "account", "qos", "venv"):
        _set(ctx, s, key, p + key, lambda x, k=key: coerce.string(x, sink, f"`{k}`"), out, key)
    _set(ctx, s, "time", p + "time_limit_s", lambda x: coerce.duration(x, sink, "`time`"), out, "time_limit_s")
    _set(ctx, s, "signal_lead", p + "signal_lead_s", lambda x: coerce.duration(x, sink, "`signal_lead`"), out,
         "signal_lead_s")
    _set(ctx, s, "cpus_per_task", p + "cpus_per_task", lambda x: coerce.integer(x, sink, "`cpus_per_task`", 1), out,
         "cpus_per_task")
    _set(ctx, s, "mem", p + "mem", lambda x: _mem(ctx, x), out, "mem")
    _set(ctx, s, "device_memory", p + "device_memory_gb", lambda x: coerce.memory_gb(x, sink, "`device_memory`"),
         out, "device_memory_gb")
    for key, field in (("modules", "modules"), ("directives", "extra_directives")):
        _set(ctx, s, key, p + field, lambda x, k=key: _strings(ctx, x, f"`{k}`"), out, field)
    if out.pop("__failed__", False):
        return None
    return SitePlan(**out)


def _mem(ctx: Context, value: v.Value) -> str | None:
    if isinstance(value, v.Str):
        return value.value
    gb = coerce.memory_gb(value, ctx.sink, "`mem`")
    return None if gb is None else ("0" if gb == 0 else f"{int(round(gb))}G")


def _strings(ctx: Context, value: v.Value, what: str) -> tuple[str, ...] | None:
    if not isinstance(value, v.ListV):
        coerce.wrong(ctx.sink, "E0103", what, 'a list of strings such as `["LUMI/24.03"]`', value)
        return None
    items = [coerce.string(i, ctx.sink, f"each item of {what}") for i in value.items]
    return None if None in items else tuple(items)  # type: ignore[arg-type]


def check_outputs(ctx: Context, s: dict[str, v.Value], default_run_dir: str,
                  tracking: TrackingPlan) -> OutputsPlan | None:
    out: dict = {"run_dir": default_run_dir, "tracking": tracking}
    sink = ctx.sink
    _set(ctx, s, "run_dir", "outputs.run_dir", lambda x: coerce.string(x, sink, "`run_dir`"), out, "run_dir")
    _set(ctx, s, "keep_last", "outputs.keep_last_checkpoints", lambda x: coerce.integer(x, sink, "`keep_last`", 1),
         out, "keep_last_checkpoints")
    if "checkpoint_every" in s:
        value = s["checkpoint_every"]
        if isinstance(value, v.StepsV):
            ctx.mark("outputs.checkpoint_every_steps", value)
            count = coerce.integer(value.count, sink, "`checkpoint_every`", 1)
            out.update(checkpoint_every_steps=count, checkpoint_every_minutes=None)
            out["__failed__"] = out.get("__failed__") or count is None
        else:
            ctx.mark("outputs.checkpoint_every_minutes", value)
            seconds = coerce.duration(value, sink, "`checkpoint_every` (a duration such as `30m`, or `1000 steps`)")
            if seconds is not None and (seconds < 60 or seconds % 60):
                sink.error("E0105", "`checkpoint_every` must be whole minutes", value.span)
                seconds = None
            out["__failed__"] = out.get("__failed__") or seconds is None
            out["checkpoint_every_minutes"] = (seconds or 0) // 60
    if out.pop("__failed__", False):
        return None
    return OutputsPlan(**out)


def check_tracking(ctx: Context, s: dict[str, v.Value] | None, value: v.Value | None, experiment: str) -> TrackingPlan | None:
    if value is not None:
        ctx.mark("outputs.tracking.enabled", value)
        state = coerce.choice(value, ctx.sink, "`tracking`", ("off", "on"))
        return None if state is None else TrackingPlan(enabled=state == "on", experiment=experiment)
    out: dict = {"experiment": experiment}
    sink = ctx.sink
    for key in ("uri", "experiment", "run_name"):
        _set(ctx, s or {}, key, f"outputs.tracking.{key}", lambda x, k=key: coerce.string(x, sink, f"`{k}`"), out, key)
    _set(ctx, s or {}, "system_metrics", "outputs.tracking.system_metrics",
         lambda x: coerce.boolean(x, sink, "`system_metrics`"), out, "system_metrics")
    uri = out.get("uri", "")
    if uri and not uri.startswith(("sqlite:///", "http://", "https://", "file:")):
        sink.error("E1102", f"`{uri}` is not an MLflow tracking address", (s or {})["uri"].span,
                   hint='use "sqlite:///runs/mlflow.db" or "http://host:5000"')
        return None
    if out.pop("__failed__", False):
        return None
    return TrackingPlan(**out)
