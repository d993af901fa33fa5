"""When to write training checkpoints: every N optimiser steps, every M minutes, and at the end.

A small callback instead of Lightning's ``ModelCheckpoint``: it names files by
global step (``step-00000012.ckpt``) so ``--resume RUN_DIR`` finds the newest
one without parsing metrics, and it keeps the last ``keep_last`` files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from anemoic.runtime.training.checkpoints import checkpoint_name, list_checkpoints, remove_stale_temporaries


class PeriodicCheckpoint(pl.Callback):
    def __init__(self, directory: str | Path, *, every_steps: int | None, every_minutes: float | None,
                 keep_last: int) -> None:
        self.directory = Path(directory)
        self.every_steps = every_steps
        self.every_seconds = every_minutes * 60.0 if every_minutes else None
        self.keep_last = max(1, keep_last)
        self._last_saved_step = -1
        self._last_saved_time = time.monotonic()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.is_global_zero:
            remove_stale_temporaries(self.directory)
        self._last_saved_step = trainer.global_step
        self._last_saved_time = time.monotonic()

    def _due(self, trainer: pl.Trainer) -> bool:
        step = trainer.global_step
        if step == self._last_saved_step:
            return False
        due = bool(self.every_steps) and step % self.every_steps == 0
        if self.every_seconds is not None:
            # ranks must agree, or they would wait for each other in save_checkpoint's barrier
            timed = time.monotonic() - self._last_saved_time >= self.every_seconds
            due = due or bool(trainer.strategy.broadcast(timed, src=0))
        return due

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._due(trainer):
            self.save(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_step != self._last_saved_step:
            self.save(trainer)

    def save(self, trainer: pl.Trainer) -> Path:
        path = self.directory / checkpoint_name(trainer.global_step)
        trainer.save_checkpoint(path)
        self._last_saved_step = trainer.global_step
        self._last_saved_time = time.monotonic()
        if trainer.is_global_zero:
            for old in list_checkpoints(self.directory)[: -self.keep_last]:
                old.unlink(missing_ok=True)
        return path

    def save_unless_saved(self, trainer: pl.Trainer) -> Path:
        """The checkpoint of the current step: the one already written at this step, or a new one."""
        if trainer.global_step == self._last_saved_step and (latest := self.latest) is not None:
            return latest
        return self.save(trainer)

    @property
    def latest(self) -> Path | None:
        found = list_checkpoints(self.directory)
        return found[-1] if found else None
