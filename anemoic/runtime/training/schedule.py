"""The optimiser, and the learning-rate schedule: linear warmup, then cosine decay to ``min_lr`` or constant.

The schedule is written as a plain closure for ``LambdaLR`` (not a callable object) so that the
scheduler's state_dict holds only numbers and checkpoints stay weights_only-safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from anemoic.plan.kinds import OptimiserKind, ScheduleKind
from anemoic.plan.model import OptimiserPlan, SchedulePlan
from anemoic.runtime.registry import pick


OPTIMISERS: dict[OptimiserKind, Callable[..., torch.optim.Optimizer]] = {"adamw": torch.optim.AdamW}


def build_optimiser(parameters: Iterable[torch.nn.Parameter], spec: OptimiserPlan) -> torch.optim.Optimizer:
    """The plan's optimiser at ``effective_lr`` (already scaled by the compiler)."""
    optimiser = pick(OPTIMISERS, spec.kind, "optimiser")
    return optimiser(parameters, lr=spec.effective_lr, betas=tuple(spec.betas), weight_decay=spec.weight_decay)


def _cosine(progress: float, floor: float) -> float:
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _constant(progress: float, floor: float) -> float:
    return 1.0


SCHEDULES: dict[ScheduleKind, Callable[[float, float], float]] = {"cosine": _cosine, "constant": _constant}
"""After warmup: ``(fraction of the decay steps done, min_lr / lr) -> factor of the base rate``."""


def lr_factor(schedule: SchedulePlan, base_lr: float, total_steps: int) -> Callable[[int], float]:
    """Multiplier of ``base_lr`` at optimiser step ``step`` (0-based)."""
    warmup = max(0, schedule.warmup_steps)
    floor = min(1.0, schedule.min_lr / base_lr) if base_lr > 0 else 0.0
    decay_steps = max(1, total_steps - warmup)
    after_warmup = pick(SCHEDULES, schedule.kind, "schedule")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return after_warmup(min(1.0, (step - warmup) / decay_steps), floor)

    return factor


def build_scheduler(optimiser: torch.optim.Optimizer, schedule: SchedulePlan, base_lr: float,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimiser, lr_factor(schedule, base_lr, total_steps))
