"""SLURM requeue on SIGUSR1: checkpoint at a step boundary on every rank together, requeue, stop cleanly.

Why not Lightning's ``SLURMEnvironment(auto_requeue=True)``: it saves the
checkpoint *inside the signal handler*, separately on each rank, so with DDP
the ranks meet the checkpoint's collectives at different points and the job
hangs until SLURM kills it (Lightning issue #21406).  Here the handler only
sets a flag; at the next optimiser-step boundary all ranks all-reduce the
flag (a rank that got the signal later still stops at the same step), save
through the normal atomic checkpoint path (mid-epoch position included),
rank 0 writes a marker and runs ``scontrol requeue JOB``, and the trainer stops.

The requeued job's ``exec`` finds the marker (or, after any SLURM restart,
checkpoints of the same plan) and resumes from the newest checkpoint
(``requeued_checkpoint``).  ``ANEMOIC_REQUEUE_COMMAND`` replaces
``scontrol requeue`` (the job id is appended), e.g. for tests outside SLURM.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import lightning.pytorch as pl
import torch
import torch.distributed as dist

from anemoic.plan.io import write_text_atomic
from anemoic.runtime.training.checkpoint_callback import PeriodicCheckpoint
from anemoic.runtime.training.checkpoints import CHECKPOINT_DIR, list_checkpoints, load_checkpoint

REQUEUE_COMMAND_ENV = "ANEMOIC_REQUEUE_COMMAND"
DEFAULT_REQUEUE_COMMAND = ("scontrol", "requeue")
MARKER_NAME = "requeued.json"  # inside RUN_DIR/checkpoints, so archiving an old run moves it along


def slurm_job_id() -> str | None:
    """The id ``scontrol requeue`` takes: ``ARRAYJOB_TASK`` for an array member, else the job id."""
    array_job, array_task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array_job and array_task:
        return f"{array_job}_{array_task}"
    return os.environ.get("SLURM_JOB_ID") or None


def cluster_plugins() -> list[Any]:
    """Lightning's SLURM environment without its own SIGUSR1 handling (this module does that)."""
    from lightning.fabric.plugins.environments import SLURMEnvironment

    return [SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else []


class SignalFlag:
    """Remembers that SIGUSR1 arrived; the handler does nothing else (no I/O, no collectives)."""

    def __init__(self) -> None:
        self.raised = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.raised = True

    def install(self, signum: int = signal.SIGUSR1) -> SignalFlag:
        signal.signal(signum, self._handle)
        return self


def install_requeue_flag() -> SignalFlag | None:
    """Catch SIGUSR1 when running as a SLURM job (there is a job to requeue); otherwise leave it alone."""
    return SignalFlag().install() if slurm_job_id() is not None else None


def requeue_command(job_id: str) -> list[str]:
    configured = os.environ.get(REQUEUE_COMMAND_ENV, "").strip()
    return [*(shlex.split(configured) if configured else DEFAULT_REQUEUE_COMMAND), job_id]


def run_requeue(job_id: str) -> str | None:
    """Run the requeue command; return None on success, else why it failed (one line)."""
    command = requeue_command(job_id)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{shlex.join(command)}: {exc}"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return f"{shlex.join(command)} exited with {done.returncode}" + (f": {detail[-1]}" if detail else "")
    return None


def requeue_message(step: int, checkpoint: Path, job_id: str, failure: str | None) -> str:
    if failure is None:
        return (f"SIGUSR1: saved {checkpoint} at step {step}; requeueing SLURM job {job_id}, "
                "which resumes from it; stopping now")
    return (f"error: SIGUSR1: saved {checkpoint} at step {step}, but requeueing job {job_id} failed "
            f"({failure}); continue with --resume {checkpoint.parent.parent}")


def write_marker(run_dir: Path, plan_hash: str, job_id: str, checkpoint: Path) -> None:
    record = {"plan_hash": plan_hash, "job_id": job_id, "checkpoint": checkpoint.name}
    write_text_atomic(run_dir / CHECKPOINT_DIR / MARKER_NAME, json.dumps(record, indent=1) + "\n")


def clear_marker(run_dir: Path) -> None:
    (run_dir / CHECKPOINT_DIR / MARKER_NAME).unlink(missing_ok=True)


def _marker_hash(run_dir: Path) -> str | None:
    try:
        return str(json.loads((run_dir / CHECKPOINT_DIR / MARKER_NAME).read_text())["plan_hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _restart_count() -> int:
    try:
        return int(os.environ.get("SLURM_RESTART_COUNT", "0"))
    except ValueError:
        return 0


def requeued_checkpoint(run_dir: Path, plan_hash: str) -> Path | None:
    """The checkpoint a requeued ``exec`` continues from, or None for a fresh run.

    Continue when this runtime requeued the run (its marker names the same plan hash), or
    when SLURM restarted the job (``SLURM_RESTART_COUNT > 0``, e.g. after a node failure)
    and the newest checkpoint in the run directory was trained from the same plan.
    """
    found = list_checkpoints(run_dir / CHECKPOINT_DIR)
    if not found:
        return None
    if _marker_hash(run_dir) == plan_hash:
        return found[-1]
    if _restart_count() > 0:
        lineage = load_checkpoint(found[-1]).get("anemoic", {})
        if isinstance(lineage, dict) and lineage.get("plan_hash") == plan_hash:
            return found[-1]
    return None


class RequeueOnSignal(pl.Callback):
    """At each optimiser-step boundary: did any rank get SIGUSR1? Then save, requeue and stop.

    Place it after ``PeriodicCheckpoint`` so a periodic save at the same step is reused.
    ``on_requeue(failed)`` is called on rank 0 once the requeue command ran (tracking ends the
    attempt's MLflow run accordingly).
    """

    def __init__(self, flag: SignalFlag, checkpoints: PeriodicCheckpoint, run_dir: Path, plan_hash: str,
                 job_id: str, on_requeue: Callable[[bool], None] | None = None) -> None:
        self.flag, self.checkpoints, self.run_dir = flag, checkpoints, run_dir
        self.plan_hash, self.job_id = plan_hash, job_id
        self.on_requeue = on_requeue
        self.requeued = False
        self.failure: str | None = None
        self._last_step = -1

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._last_step = trainer.global_step

    def _any_rank_signalled(self, trainer: pl.Trainer) -> bool:
        raised = torch.tensor([1 if self.flag.raised else 0], dtype=torch.int32, device=trainer.strategy.root_device)
        if trainer.world_size > 1 and dist.is_available() and dist.is_initialized():
            dist.all_reduce(raised, op=dist.ReduceOp.MAX)
        return bool(raised.item())

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self.requeued or trainer.global_step == self._last_step:
            return  # between micro-batches of an accumulated step: not a resumable position
        self._last_step = trainer.global_step
        if not self._any_rank_signalled(trainer):
            return
        checkpoint = self.checkpoints.save_unless_saved(trainer)
        if trainer.is_global_zero:
            write_marker(self.run_dir, self.plan_hash, self.job_id, checkpoint)
            # Said before requeueing: SLURM cancels this step as soon as the requeue is accepted.
            print(requeue_message(trainer.global_step, checkpoint, self.job_id, None), flush=True)
            self.failure = run_requeue(self.job_id)
            if self.failure:
                print(requeue_message(trainer.global_step, checkpoint, self.job_id, self.failure),
                      file=sys.stderr, flush=True)
            if self.on_requeue is not None:
                self.on_requeue(self.failure is not None)
        self.requeued = True
        trainer.should_stop = True
        trainer.limit_val_batches = 0  # Lightning validates on a requested stop; the time limit is near
