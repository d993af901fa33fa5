"""Training steps of the plan's real model, data and loss, timed phase by phase (one process).

The loop is the training step the Lightning module runs (normalise, the task's rollout loss, backward,
clip, AdamW and the LR schedule, under the plan's precision), written out so that every phase has a
timer around it. Each process runs the model whole, as ``exec --dry-run`` does. Started as several
processes (``torchrun``, ``srun``), the ranks read disjoint samples and all-reduce their gradients after
the backward, as DDP does, in one flat buffer: that is the ``communication`` phase (DDP overlaps it
with the backward in buckets, so this is its cost, not its exposed time); a model group's exchanges
are not reproduced.
"""

from __future__ import annotations

import contextlib
import itertools
import resource
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from anemoic.runtime.data.sampling import ShardedWindowSampler
from anemoic.runtime.methods import Stream
from anemoic.runtime.profiling.clock import COMPONENTS, PhaseClock, time_components, timed_loss
from anemoic.runtime.training.build import Components
from anemoic.runtime.training.module import ForecastModule

PHASES = ("data", "to_device", "normalise", *COMPONENTS, "forward_other", "loss", "backward", "communication",
          "optimiser")


@dataclass
class ModeTimes:
    """Mean seconds per step of each phase, over the timed steps of one data mode."""

    mode: str  # "real": batches read from the store; "synthetic": one batch of the right shape, reused
    steps: int
    batch_size: int
    step_s: float  # mean measured wall time of a whole step
    phases: dict[str, float] = field(default_factory=dict)
    peak_gpu_bytes: int | None = None

    @property
    def samples_per_s(self) -> float:
        return self.batch_size / self.step_s if self.step_s > 0 else 0.0


def synthetic_batch(parts: Components, batch_size: int, seed: int) -> torch.Tensor:
    """A batch ``(B, T, E, G, V_data)`` in physical units drawn from the store's statistics (normalised
    values ~ N(0, 1), denormalised), without reading a field from the store."""
    meta = parts.data.store.metadata
    shape = (batch_size, parts.data.lengths["train"], meta.ensemble_size, parts.data.grid_size, len(parts.data.channels))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        return parts.preprocessor.denormalise(torch.randn(shape, generator=generator))


def world() -> tuple[int, int]:
    """(rank, size) of the started processes; (0, 1) on one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def real_batches(parts: Components, seed: int) -> Iterator[torch.Tensor]:
    """The plan's training loader (workers, prefetch, pinning) over the whole grid, epoch after epoch; each
    started process reads its own share of the samples."""
    data = parts.data
    rank, size = world()
    for epoch in itertools.count():
        sampler = ShardedWindowSampler(len(data.train_starts), dp_rank=rank, dp_size=size, seed=seed, shuffle=True)
        sampler.set_epoch(epoch)
        yield from data._loader(data.dataset("train"), sampler)


class StepRunner:
    """One training step at a time, each phase under the clock."""

    def __init__(self, module: ForecastModule, device: torch.device) -> None:
        self.module, self.device = module, device
        training = module.plan.training
        configured = module.configure_optimizers()
        self.optimiser = configured["optimizer"]
        self.scheduler = configured["lr_scheduler"]["scheduler"]
        self.clip, self.clip_by = training.gradient_clip, training.gradient_clip_algorithm
        half = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(training.precision)
        self.autocast = (lambda: torch.autocast(device.type, dtype=half)) if half is not None \
            else contextlib.nullcontext
        self.scaler = torch.amp.GradScaler(device.type) if training.precision == "16-mixed" else None
        self.clock = PhaseClock(device)
        self._remove_hooks = time_components(module.model, self.clock)
        self._loss = timed_loss(module.loss_fn, self.clock)
        self.batch_index = 0
        self.world_size = world()[1]

    def _all_reduce_gradients(self) -> None:
        """The mean gradient over the processes, as DDP computes it (one flat buffer)."""
        import torch.distributed as dist

        grads = [p.grad for p in self.module.parameters() if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def step(self, batches: Iterator[torch.Tensor]) -> float:
        """Run one step; the loss (for the caller to see that training is real)."""
        clock, module = self.clock, self.module
        started = clock.now()
        with clock.measure("data"):
            batch = next(batches)
        with clock.measure("to_device"):
            batch = batch.to(self.device, non_blocking=True)
        with clock.measure("normalise"):
            x, missing = module.normalise(batch), module.missing(batch)
        with clock.measure("forward"), self.autocast():
            model = module.bound_model(Stream.TRAIN, self.batch_index)
            loss = module.task.training_loss(model, self._loss, x, 0, missing)
        with clock.measure("backward"):
            (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        if self.world_size > 1:
            with clock.measure("communication"):
                self._all_reduce_gradients()
        with clock.measure("optimiser"):
            self._optimise()
        clock.steps.append(clock.now() - started)
        self.batch_index += 1
        return float(loss.detach())

    def _optimise(self) -> None:
        if self.scaler is not None:
            self.scaler.unscale_(self.optimiser)
        if self.clip:
            parameters = self.module.parameters()
            if self.clip_by == "norm":
                torch.nn.utils.clip_grad_norm_(parameters, self.clip)
            else:
                torch.nn.utils.clip_grad_value_(parameters, self.clip)
        if self.scaler is not None:
            self.scaler.step(self.optimiser)
            self.scaler.update()
        else:
            self.optimiser.step()
        self.optimiser.zero_grad(set_to_none=True)
        self.scheduler.step()

    def timed(self, batches: Iterator[torch.Tensor], mode: str, steps: int, batch_size: int) -> ModeTimes:
        """``steps`` steps after one warm-up step (workers starting, allocator and kernels warming)."""
        self.step(batches)
        self.clock.reset()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        for _ in range(steps):
            self.step(batches)
        totals = self.clock.totals
        phases = {name: totals.get(name, 0.0) / steps for name in PHASES if name != "forward_other"}
        inside = sum(phases[name] for name in (*COMPONENTS, "loss"))
        phases["forward_other"] = max(totals.get("forward", 0.0) / steps - inside, 0.0)
        peak = torch.cuda.max_memory_allocated(self.device) if self.device.type == "cuda" else None
        return ModeTimes(mode, steps, batch_size, sum(self.clock.steps) / steps,
                         {name: phases[name] for name in PHASES}, peak)

    def trace(self, batches: Iterator[torch.Tensor], out: Path) -> list[str]:
        """One more step under ``torch.profiler`` (Chrome trace) and, on a GPU, the allocator's history
        (a snapshot for https://pytorch.org/memory_viz); the files written, relative to ``out`` (rank 0's:
        every process runs the step, which may all-reduce)."""
        from torch.profiler import ProfilerActivity, profile

        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if self.device.type == "cuda" else [])
        cuda = self.device.type == "cuda"
        if cuda:
            torch.cuda.memory._record_memory_history(max_entries=100_000)
        with profile(activities=activities, record_shapes=True, profile_memory=True) as prof:
            self.step(batches)
        first = world()[0] == 0
        if first:
            prof.export_chrome_trace(str(out / "trace.json"))
        written = ["trace.json"]
        if cuda:
            if first:
                torch.cuda.memory._dump_snapshot(str(out / "memory_snapshot.pickle"))
            torch.cuda.memory._record_memory_history(enabled=None)
            written.append("memory_snapshot.pickle")
        return written

    def close(self) -> None:
        self._remove_hooks()


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (Linux reports kibibytes)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def parameters_per_component(model: torch.nn.Module) -> dict[str, int]:
    """Trainable parameters of encoder, processor and decoder; ``other``: embeddings, node parameters, head."""
    counts = {name: sum(p.numel() for p in getattr(model, name).parameters())
              for name in COMPONENTS if getattr(model, name, None) is not None}
    counts["other"] = sum(p.numel() for p in model.parameters()) - sum(counts.values())
    return counts
