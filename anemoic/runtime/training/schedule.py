"""Learning-rate schedule: linear warmup then cosine decay to ``min_lr``.

Written as a plain closure for ``LambdaLR`` (not a callable object) so that the
scheduler's state_dict holds only numbers and checkpoints stay weights_only-safe.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from anemoic.plan.model import SchedulePlan


def lr_factor(schedule: SchedulePlan, base_lr: float, total_steps: int) -> Callable[[int], float]:
    """Multiplier of ``base_lr`` at optimiser step ``step`` (0-based)."""
    warmup = max(0, schedule.warmup_steps)
    floor = min(1.0, schedule.min_lr / base_lr) if base_lr > 0 else 0.0
    decay_steps = max(1, total_steps - warmup)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if schedule.kind == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / decay_steps)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def build_scheduler(optimiser: torch.optim.Optimizer, schedule: SchedulePlan, base_lr: float,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimiser, lr_factor(schedule, base_lr, total_steps))
