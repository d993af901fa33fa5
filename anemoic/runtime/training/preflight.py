"""The pre-flight check: one training step at the largest rollout and the full batch before real training.

An out-of-memory that appears only once the rollout has grown (anemoi-core issue 183) costs the GPU hours
spent before it. ``exec`` therefore runs, once every rank has its model (shard) on its device, one step of
the epoch with the largest rollout on a full batch of training samples -- forward, backward and the
optimiser's step, so AdamW's moments are allocated too -- and prints its measured peak memory next to the
compile-time estimate. Weights, optimiser state and random number generators are copied before the step
and put back after it, so training goes on exactly as without the check (a test compares the weights
bitwise). When the step runs out of memory, the run stops at once with what to change, in the order the
plan allows it.
"""

from __future__ import annotations

import random
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from anemoic.plan.model import Plan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.methods import Stream

EXIT_OUT_OF_MEMORY = 4
_CPU_ALLOCATION_FAILURES = ("can't allocate memory", "cannot allocate memory", "not enough memory",
                            "failed to allocate", "out of memory")


def human_bytes(value: int) -> str:
    """GiB from one GiB up, MiB below (as ``anemoic build`` prints its estimate)."""
    return f"{value / 1024**3:.1f} GiB" if value >= 1024**3 else f"{value / 1024**2:.1f} MiB"


def estimate_text(plan: Plan) -> str:
    est = plan.estimates
    total = est.activation_bytes_per_gpu + est.parameter_state_bytes_per_gpu
    if total == 0:
        return "no compile-time estimate in the plan"
    return (f"estimate {human_bytes(total)}: {human_bytes(est.activation_bytes_per_gpu)} activations + "
            f"{human_bytes(est.parameter_state_bytes_per_gpu)} weights, gradients and optimiser state")


def largest_rollout_epoch(plan: Plan) -> int:
    """The last epoch the plan trains: the rollout only grows, so its rollout is the largest."""
    return max(plan.training.epochs - 1, 0)


def is_out_of_memory(error: BaseException) -> bool:
    if isinstance(error, (torch.OutOfMemoryError, MemoryError)):
        return True
    return isinstance(error, RuntimeError) and any(s in str(error).lower() for s in _CPU_ALLOCATION_FAILURES)


class OutOfMemory(RuntimeUserError):
    """The pre-flight step did not fit: one line saying so, hint lines saying what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_OUT_OF_MEMORY)


def advice(plan: Plan, rollout: int, batch: int, device: str, reached: int, attempted: int | None) -> str:
    """The message of a pre-flight step that ran out of memory (golden-tested): what ran, how far it got
    (``reached`` bytes in use by the step, ``attempted`` the allocation that failed), then the changes that
    shrink a step's memory, the ones this plan allows, first to last."""
    training, model, parallel = plan.training, plan.model, plan.parallel
    more = f" and failed to allocate {human_bytes(attempted)} more" if attempted else ""
    lines = [f"error: pre-flight check: one training step (batch {batch}, rollout {rollout}) ran out of memory "
             f"on the {device}: it had used {human_bytes(reached)}{more} ({estimate_text(plan)})"]
    hints = []
    if training.batch_size > 1:
        hints.append(f"lower the batch size: train {{ batch = {max(training.batch_size // 2, 1)} }} "
                     f"(now {training.batch_size}; activations grow with it)")
    if plan.task.kind != "temporal_downscaler":  # a sharded downscaler is refused (E1414)
        hints.append(f"shard the model over more GPUs: parallel {{ gpus_per_model = {parallel.gpus_per_model * 2} }} "
                     f"(now {parallel.gpus_per_model}; each GPU of a model group holds its share of the activations)")
    if not model.gradient_checkpointing:
        hints.append("recompute activations in the backward: gradient_checkpointing = true in the model's "
                     "arguments (now false)")
    hints.append(f"run the mappers in more chunks: num_chunks = {model.num_chunks * 2} in the model's arguments "
                 f"(now {model.num_chunks})")
    if rollout > 1:
        start = plan.task.rollout.start
        hints.append(f"shorten the rollout: rollout = {min(start, max(rollout // 2, 1))} -> {max(rollout // 2, 1)} "
                     f"... in the task (now up to {rollout}, reached in epoch {largest_rollout_epoch(plan) + 1})")
    lines += [f"  hint: {hint}" for hint in hints]
    lines.append("  hint: or turn the check off (train { preflight = false } or exec --no-preflight) to fail later")
    return "\n".join(lines)


def _rss_now() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return None


def _reset_peak_rss() -> bool:
    """Linux resets the resident high-water mark on "5" written to clear_refs (kernel >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _peak_rss() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


@contextmanager
def kept_state(module: pl.LightningModule, optimisers: list[torch.optim.Optimizer]) -> Iterator[None]:
    """Weights, buffers, optimiser states and random generators as they were before the block (on the
    host: the copies must not take the device memory the step measures)."""
    weights = {name: t.detach().to("cpu", copy=True) for name, t in module.state_dict(keep_vars=True).items()}
    states = [_to_cpu(o.state_dict()) for o in optimisers]  # new containers, tensors copied: nothing shared
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate(),
           torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None)
    try:
        yield
    finally:
        for optimiser, state in zip(optimisers, states):
            optimiser.zero_grad(set_to_none=True)
            optimiser.load_state_dict(state)
        module.zero_grad(set_to_none=True)
        module.load_state_dict(weights, strict=True)
        torch.set_rng_state(rng[0])
        np.random.set_state(rng[1])
        random.setstate(rng[2])
        if rng[3] is not None:
            torch.cuda.set_rng_state_all(rng[3])


def _to_cpu(value: Any) -> Any:
    """A copy of an optimiser state dict with every tensor on the host (a device copy could itself not fit)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value


class PreflightCheck(pl.Callback):
    """Runs the check when training starts: after the strategy has placed (and sharded) the model and
    restored a resumed run's state, before the first real batch."""

    def __init__(self, data: Any, say: Any) -> None:
        self.data, self.say = data, say
        self.peak: int | None = None  # bytes, for tests

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        plan: Plan = pl_module.plan
        device = pl_module.device
        dataset = self.data.dataset("train", sharded=True)  # this rank's read slice, as its training batches
        batch = min(plan.training.batch_size, len(dataset))
        epoch = largest_rollout_epoch(plan)
        rollout = pl_module.task.rollout_for_epoch(epoch)
        where = "GPU" if device.type == "cuda" else "CPU"
        before = 0
        with kept_state(pl_module, trainer.optimizers):
            if device.type == "cuda":
                torch.cuda.synchronize(device)
                torch.cuda.reset_peak_memory_stats(device)
                before = torch.cuda.memory_allocated(device)
            else:
                before = _rss_now() or 0
                if not _reset_peak_rss():
                    before = _peak_rss()
            try:
                self._step(trainer, pl_module, dataset, batch, epoch)
            except BaseException as error:  # noqa: BLE001 -- only an out-of-memory is turned into advice
                if not is_out_of_memory(error):
                    raise
                attempted = _attempted_bytes(str(error))
                del error
                if device.type == "cuda":
                    reached = torch.cuda.max_memory_allocated(device)
                    torch.cuda.empty_cache()
                else:
                    reached = max(_peak_rss() - before, 0)
                raise OutOfMemory(advice(plan, rollout, batch, where, reached, attempted)) from None
            if device.type == "cuda":
                self.peak = torch.cuda.max_memory_allocated(device)
                measured = f"peak {human_bytes(self.peak)} allocated on the GPU (weights and optimiser state included)"
            else:
                self.peak = max(_peak_rss() - before, 0)
                measured = f"peak resident memory rose {human_bytes(self.peak)} on the CPU"
        self.say(f"pre-flight check ok: one training step (batch {batch}, rollout {rollout}): {measured}; "
                 f"{estimate_text(plan)}")
        if device.type == "cuda":
            torch.cuda.empty_cache()

    @staticmethod
    def _step(trainer: pl.Trainer, module: Any, dataset: Any, batch: int, epoch: int) -> None:
        samples = torch.stack([torch.as_tensor(dataset[i]) for i in range(batch)])
        samples = module.on_after_batch_transfer(samples.to(module.device), 0)
        with trainer.precision_plugin.train_step_context():
            loss = module.task.training_loss(module.bound_model(Stream.TRAIN, 0), module.loss_fn,
                                             module.normalise(samples), epoch, module.missing(samples))
        loss.backward()
        for optimiser in trainer.optimizers:
            optimiser.step()
        if module.device.type == "cuda":
            torch.cuda.synchronize(module.device)


def _attempted_bytes(message: str) -> int | None:
    """The size of the allocation that failed, where torch's message says it."""
    import re

    match = re.search(r"allocate (\d+) bytes", message)
    if match:
        return int(match.group(1))
    match = re.search(r"allocate ([\d.]+) (GiB|MiB)", message)
    if match:
        return int(float(match.group(1)) * 1024 ** (3 if match.group(2) == "GiB" else 2))
    return None
