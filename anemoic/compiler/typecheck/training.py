"""The `train` block: epochs, batch, learning rate with its schedule, optimiser, precision, ...

The optimiser's effective learning rate is not written here: it depends on the data-parallel size,
so lowering derives it, once, from the rate and ``scale_lr`` this checker returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.builtins import SCHEDULE_KINDS
from anemoic.compiler.typecheck.arguments import argument, component, failed
from anemoic.compiler.typecheck.context import Context, Settings
from anemoic.compiler.typecheck.init import check_init
from anemoic.compiler.typecheck.settings import Setting, choice, duration, flag, keys, read_settings, real, whole
from anemoic.plan import kinds
from anemoic.plan.model import SchedulePlan

PRECISIONS = {"32": "32", "fp32": "32", "bf16": "bf16-mixed", "16": "16-mixed", "fp16": "16-mixed"}


TABLE = (
    Setting("epochs", "training.epochs", whole(1)),
    Setting("batch", "training.batch_size", whole(1)),
    Setting("precision", "training.precision", choice(PRECISIONS)),
    Setting("gradient_clip", "training.gradient_clip", real(positive=True)),
    Setting("clip_by", "training.gradient_clip_algorithm", choice(kinds.CLIP_ALGORITHMS)),
    Setting("accumulate", "training.accumulate_grad_batches", whole(1)),
    Setting("ema", "training.ema_decay", real(positive=True)),
    Setting("early_stopping", "training.early_stopping_patience", whole(1)),
    Setting("time_limit", "training.time_limit_s", duration()),
    Setting("max_steps", "training.max_steps", whole(1)),
    Setting("limit_batches", "training.limit_batches_per_epoch", whole(1)),
    Setting("deterministic", "training.deterministic", flag()),
    Setting("debug", "training.debug", flag()),
    Setting("preflight", "training.preflight", flag()),
    Setting("workers", "training.num_workers", whole(0)),
    Setting("prefetch", "training.prefetch_factor", whole(1)),
    Setting("pin_memory", "training.pin_memory", flag()),
    Setting("seed", "seed", whole(0)),
    Setting("scale_lr", "training.optimiser.effective_lr", flag(), field="scale_lr"),  # blame for the derived LR
)
SETTINGS = keys(TABLE, "lr", "optimiser", "init")


@dataclass(frozen=True)
class CheckedTraining:
    fields: dict[str, Any]  # TrainingPlan fields (epochs, batch_size, ...), without optimiser and schedule
    optimiser: dict[str, Any]  # OptimiserPlan fields (kind, lr, betas, weight_decay), without effective_lr
    schedule: SchedulePlan
    seed: int
    scale_lr: bool  # effective LR = lr x data-parallel size


def check_train(ctx: Context, s: Settings, directories: dict[str, Path] | None = None) -> CheckedTraining | None:
    """``directories``: each source file's folder, against which a relative ``init`` checkpoint path resolves."""
    read = read_settings(ctx, s, TABLE)
    optimiser, schedule = _learning_rate(ctx, s)
    init_ok, init = check_init(ctx, s.get("init"), directories or {})
    if s.missing("epochs") and s.missing("max_steps"):
        ctx.sink.error("E1006", "`train` needs `epochs` (or `max_steps`)", ctx.file_span(), hint="add `epochs = 10`")
        return None
    if read is None or optimiser is None or schedule is None or not init_ok:
        return None
    seed, scale_lr = read.pop("seed", 42), read.pop("scale_lr", True)
    fields = {"epochs": 1, "batch_size": 1, **read, **({"init": init} if init is not None else {})}
    return CheckedTraining(fields, optimiser, schedule, seed, scale_lr)


def _learning_rate(ctx: Context, s: Settings) -> tuple[dict[str, Any] | None, SchedulePlan | None]:
    optimiser: dict[str, Any] = {}
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
        optimiser = {"kind": adamw.builtin, "betas": tuple(betas), "weight_decay": float(decay)}  # type: ignore
    if "lr" not in s:
        return optimiser, SchedulePlan()
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
    optimiser["lr"] = rate
    if schedule_value is None:
        return optimiser, SchedulePlan()
    ctx.mark("training.schedule", schedule_value)
    return optimiser, _schedule(ctx, schedule_value)


def _schedule(ctx: Context, value: v.Value) -> SchedulePlan | None:
    chosen = component(ctx, value, "schedule", "the schedule after `with`", "cosine(warmup = 1000)")
    if chosen is None:
        return None
    warmup = argument(ctx, chosen, "warmup", "training.schedule.warmup_steps")
    if SCHEDULE_KINDS[chosen.builtin] == "constant":
        return None if failed(warmup) else SchedulePlan("constant", int(warmup), 0.0, None)  # type: ignore[arg-type]
    min_lr, total = argument(ctx, chosen, "min_lr", "training.schedule.min_lr"), \
        argument(ctx, chosen, "total_steps", "training.schedule.total_steps")
    if failed(warmup, min_lr, total):
        return None
    return SchedulePlan("cosine", int(warmup), float(min_lr), total)  # type: ignore[arg-type]
