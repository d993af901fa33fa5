"""The blocks that say where and how a run happens: `parallel`, `site` (SLURM), `outputs` and `tracking`.

All optional: a missing block takes the plan's defaults (`read_group` defaults to `gpus_per_model` with
`keep_batch_sharded`, since each rank then reads its own grid shard; to 1 otherwise).  On GPUs one process drives each GPU
(`gpus_per_node`); on the CPU a run starts `processes_per_node` processes (gloo): each setting is
named for what it counts, and the wrong one for the accelerator is an error.
"""

from __future__ import annotations

from typing import Any

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.typecheck import unsupported
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.settings import (
    Setting, choice, duration, flag, keys, memory, read_settings, text, texts, whole,
)
from anemoic.plan import kinds
from anemoic.plan.model import OutputsPlan, ParallelPlan, SitePlan, TrackingPlan

PARALLEL_TABLE = (
    Setting("nodes", "parallel.nodes", whole(1)),
    Setting("gpus_per_node", "parallel.processes_per_node", whole(1), field="gpus_per_node"),
    Setting("processes_per_node", "parallel.processes_per_node", whole(1)),
    Setting("gpus_per_model", "parallel.gpus_per_model", whole(1)),
    Setting("accelerator", "parallel.accelerator", choice(kinds.ACCELERATORS)),
    Setting("shard", "parallel.shard_strategy", choice(kinds.SHARD_STRATEGIES)),
    Setting("read_group", "parallel.read_group_size", whole(1)),
    Setting("keep_batch_sharded", "parallel.keep_batch_sharded", flag()),
)
PARALLEL = keys(PARALLEL_TABLE, "ensemble_per_device")  # the last: rules.ensemble_per_device


def _mem(value: v.Value, sink: Sink, what: str) -> str | None:
    """SLURM's ``--mem``: a string as written, or a size such as ``64GB`` (``0``: all of the node's memory)."""
    if isinstance(value, v.Str):
        return value.value
    gb = coerce.memory_gb(value, sink, what)
    return None if gb is None else ("0" if gb == 0 else f"{int(round(gb))}G")


SITE_TABLE = (
    *(Setting(key, f"site.{key}", text()) for key in ("partition", "account", "qos", "venv")),
    Setting("time", "site.time_limit_s", duration()),
    Setting("cpus_per_task", "site.cpus_per_task", whole(1)),
    Setting("mem", "site.mem", _mem),
    Setting("modules", "site.modules", texts()),
    Setting("signal_lead", "site.signal_lead_s", duration()),
    Setting("device_memory", "site.device_memory_gb", memory()),
    Setting("directives", "site.extra_directives", texts()),
)
SITE = keys(SITE_TABLE)
OUTPUTS_TABLE = (
    Setting("run_dir", "outputs.run_dir", text()),
    Setting("keep_last", "outputs.keep_last_checkpoints", whole(1)),
)
OUTPUTS = keys(OUTPUTS_TABLE, "checkpoint_every")
TRACKING_TABLE = (
    *(Setting(key, f"outputs.tracking.{key}", text()) for key in ("uri", "experiment", "run_name")),
    Setting("system_metrics", "outputs.tracking.system_metrics", flag()),
)
TRACKING = keys(TRACKING_TABLE)


def check_parallel(ctx: Context, s: dict[str, v.Value]) -> ParallelPlan | None:
    read = read_settings(ctx, s, PARALLEL_TABLE)
    if read is None:
        return None
    accelerator = read.get("accelerator", "auto")
    gpus, processes = read.pop("gpus_per_node", None), read.pop("processes_per_node", None)
    if not _counts_what_it_says(ctx, s, accelerator, gpus, processes):
        return None
    # a sharded batch is read shard by shard: each rank of the model group reads its own (rules.sharding checks)
    read.setdefault("read_group_size", read.get("gpus_per_model", 1) if read.get("keep_batch_sharded") else 1)
    return ParallelPlan(processes_per_node=gpus or processes or 1, **read)


def _counts_what_it_says(ctx: Context, s: dict[str, v.Value], accelerator: str, gpus: int | None,
                         processes: int | None) -> bool:
    if gpus is not None and processes is not None:
        ctx.sink.error("E1007", "`gpus_per_node` and `processes_per_node` are both set", s["processes_per_node"].span,
                       notes=(("`gpus_per_node` is set here", s["gpus_per_node"].span),),
                       hint="keep `gpus_per_node` on GPUs, `processes_per_node` on the CPU")
        return False
    if gpus is not None and accelerator == "cpu":
        ctx.sink.error("E1007", "`gpus_per_node` counts GPUs, but `accelerator = cpu` trains in CPU processes",
                       s["gpus_per_node"].span, hint=f"write `processes_per_node = {gpus}` for {gpus} CPU processes")
        return False
    if processes is not None and accelerator != "cpu":
        ctx.sink.error("E1007", f"`processes_per_node` counts CPU processes, but `accelerator = {accelerator}` "
                       "trains on GPUs (one process per GPU)", s["processes_per_node"].span,
                       hint=f"write `gpus_per_node = {processes}`, or `accelerator = cpu` for CPU processes")
        return False
    return True


def check_site(ctx: Context, name: str, s: dict[str, v.Value]) -> SitePlan | None:
    read = read_settings(ctx, s, SITE_TABLE)
    return None if read is None else SitePlan(name=name, **read)


def check_outputs(ctx: Context, s: dict[str, v.Value], default_run_dir: str,
                  tracking: TrackingPlan) -> OutputsPlan | None:
    read = read_settings(ctx, s, OUTPUTS_TABLE)
    cadence = _checkpoint_every(ctx, s["checkpoint_every"]) if "checkpoint_every" in s else {}
    if read is None or cadence is None:
        return None
    return OutputsPlan(**{"run_dir": default_run_dir, **read, **cadence}, tracking=tracking)


def _checkpoint_every(ctx: Context, value: v.Value) -> dict[str, Any] | None:
    """``1000 steps`` or a whole number of minutes (``30m``, ``2h``)."""
    if isinstance(value, v.StepsV):
        ctx.mark("outputs.checkpoint_every_steps", value)
        count = coerce.integer(value.count, ctx.sink, "`checkpoint_every`", 1)
        return None if count is None else {"checkpoint_every_steps": count, "checkpoint_every_minutes": None}
    ctx.mark("outputs.checkpoint_every_minutes", value)
    seconds = coerce.duration(value, ctx.sink, "`checkpoint_every` (a duration such as `30m`, or `1000 steps`)")
    if seconds is not None and (seconds < 60 or seconds % 60):
        ctx.sink.error("E0105", "`checkpoint_every` must be whole minutes", value.span)
        return None
    return None if seconds is None else {"checkpoint_every_minutes": seconds // 60}


def check_tracking(ctx: Context, s: dict[str, v.Value] | None, value: v.Value | None,
                   experiment: str) -> TrackingPlan | None:
    """``tracking = off`` / ``on``, or a ``tracking { uri = ...; experiment = ... }`` block."""
    if value is not None:
        ctx.mark("outputs.tracking.enabled", value)
        state = coerce.choice(value, ctx.sink, "`tracking`", ("off", "on"))
        return None if state is None else TrackingPlan(enabled=state == "on", experiment=experiment)
    read = read_settings(ctx, s or {}, TRACKING_TABLE)
    if read is None:
        return None
    uri = read.get("uri", "")
    if uri and not uri.startswith(("sqlite:///", "http://", "https://", "file:")):
        ctx.sink.error("E1102", f"`{uri}` is not an MLflow tracking address", (s or {})["uri"].span,
                       hint='use "sqlite:///runs/mlflow.db" or "http://host:5000"')
        return None
    return TrackingPlan(**{"experiment": experiment, **read})
