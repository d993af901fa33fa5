"""``anemoi-runtime profile plan.json``: time the phases of the plan's training steps and name the bottleneck.

By default the steps run twice, with batches read from the store and with synthetic batches of the same
shape (the same model and optimiser, continuing), so the report says how much faster a step would be
with free data loading; ``--synthetic-data`` runs only the synthetic mode (no field is read).
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning.pytorch as pl
import torch

from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import read_plan_with_notes, write_text_atomic
from anemoic.plan.model import Plan
from anemoic.runtime.distributed.groups import started_world_size
from anemoic.runtime.distributed.strategy import accelerator_for
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.profiling.plot import phase_chart
from anemoic.runtime.profiling.report import Profile, render_markdown, to_json
from anemoic.runtime.profiling.steps import StepRunner, parameters_per_component, peak_rss_bytes, real_batches, \
    synthetic_batch, world
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.module import ForecastModule


def _device(plan: Plan) -> torch.device:
    if accelerator_for(plan.parallel) == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeUserError("error: the plan trains on GPUs and none is visible; profile it on a GPU node "
                               "or build it with `parallel { accelerator = cpu }`")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def _join_processes(device: torch.device) -> None:
    """Under torchrun or srun (several processes started): one process group, gloo on CPU, NCCL on GPUs."""
    import torch.distributed as dist

    if started_world_size() in (None, 1) or dist.is_initialized():
        return
    if "RANK" not in os.environ:  # srun: torch reads torchrun's variables
        os.environ["RANK"], os.environ["WORLD_SIZE"] = os.environ["SLURM_PROCID"], os.environ["SLURM_NTASKS"]
        os.environ.setdefault("LOCAL_RANK", os.environ.get("SLURM_LOCALID", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")


def profile_plan(plan: Plan, out_dir: Path, *, steps: int = 10, synthetic_only: bool = False) -> Profile:
    """Build the plan's parts, time ``steps`` steps per data mode, write ``profile.md`` and ``profile.json``."""
    if steps < 1:
        raise RuntimeUserError(f"error: --steps must be at least 1, not {steps}")
    pl.seed_everything(plan.seed, workers=True, verbose=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = _device(plan)
    if plan.training.precision == "16-mixed" and device.type == "cpu":
        raise RuntimeUserError("error: precision 16-mixed needs a GPU (float16 autocast is not supported on CPU); "
                               "use bf16-mixed or 32 for a CPU run")
    _join_processes(device)
    parts = build_components(plan)
    module = ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                            total_steps=max(steps * 2 + 3, 1), lineage={}).to(device)
    module.train()
    runner = StepRunner(module, device)
    batch = plan.training.batch_size
    modes, files = [], []
    try:
        if not synthetic_only:
            batches = real_batches(parts, plan.seed)
            modes.append(runner.timed(batches, "real", steps, batch))
            files += runner.trace(batches, out_dir)
        fixed = synthetic_batch(parts, batch, plan.seed)
        synthetic = iter(lambda: fixed, None)
        modes.append(runner.timed(synthetic, "synthetic", steps, batch))
        if synthetic_only:
            files += runner.trace(synthetic, out_dir)
    finally:
        runner.close()
    ranks = plan.parallel.nodes * plan.parallel.processes_per_node
    rank, processes = world()
    files = [*files, "phases.png", "profile.md", "profile.json"]
    profile = Profile(plan.name, plan_hash(plan), _describe(device), plan.training.precision,
                      parts.task.rollout_for_epoch(0), plan.training.num_workers, ranks, processes, modes,
                      parameters_per_component(parts.model), peak_rss_bytes(), files)
    if rank == 0:
        phase_chart(modes, out_dir / "phases.png")
        write_text_atomic(out_dir / "profile.md", render_markdown(profile))
        write_text_atomic(out_dir / "profile.json", to_json(profile))
    return profile


def _describe(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def profile_command(plan_path: str, *, steps: int, synthetic_only: bool, out: str | None) -> int:
    from anemoic.runtime.training.run import _quiet_lightning

    _quiet_lightning()
    plan, notes = read_plan_with_notes(plan_path)
    for note in notes:
        print(note, flush=True)
    out_dir = Path(out) if out is not None else Path(plan.outputs.run_dir) / "profile"
    try:
        profile = profile_plan(plan, out_dir, steps=steps, synthetic_only=synthetic_only)
    finally:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
    if profile.processes > 1 and int(os.environ.get("RANK", "0")) != 0:
        return 0
    print(render_markdown(profile), end="", flush=True)
    print(f"written to {out_dir}/", flush=True)
    if plan.outputs.tracking.enabled:
        from anemoic.runtime.tracking.profile_log import log_profile

        print(f"logged to MLflow: {log_profile(plan, profile, out_dir, Path.cwd())}", flush=True)
    return 0
