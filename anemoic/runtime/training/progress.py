"""Training progress: a bar in a terminal, plain lines in a log file.

A tqdm bar redraws itself with carriage returns, which in a SLURM log become thousands of lines of
noise; so the bar is shown only when stdout and stderr are terminals (``progress_callback``), and
otherwise ``ProgressLines`` prints a line at the end of every epoch and, between those, one
``EVERY_STEPS`` optimiser steps or ``EVERY_S`` seconds after the previous line, whichever comes first.
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar

EVERY_STEPS = 50
EVERY_S = 30.0


class ThroughputProgressBar(TQDMProgressBar):
    """Lightning's bar plus ``samples/s`` (all data-parallel ranks), smoothed over recent batches."""

    def __init__(self, batch_size: int, refresh_rate: int = 1) -> None:
        super().__init__(refresh_rate=refresh_rate)
        self.batch_size = batch_size
        self._last: float | None = None
        self._rate: float | None = None

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        now = time.perf_counter()
        if self._last is not None and now > self._last:
            rate = self.batch_size * trainer.world_size / (now - self._last)
            self._rate = rate if self._rate is None else 0.8 * self._rate + 0.2 * rate
        self._last = now
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        self._last = None
        super().on_train_epoch_start(trainer, *args)

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        if self._rate is not None:
            metrics["samples/s"] = f"{self._rate:.1f}"
        return metrics


class ProgressLines(pl.Callback):
    """``epoch 1/2  step 50/400  loss 0.4321  38.2 samples/s  ETA 0:03:05`` on rank 0, for logs.

    samples/s counts all data-parallel ranks over the batches since the previous line (at an epoch end:
    over the epoch's training batches); the ETA extrapolates the optimiser steps per second of this
    process so far, validation included, to ``total_steps``.
    """

    def __init__(self, batch_size: int, total_steps: int, every_steps: int = EVERY_STEPS,
                 every_s: float = EVERY_S) -> None:
        self.batch_size, self.total_steps = batch_size, total_steps
        self.every_steps, self.every_s = every_steps, every_s
        self._started = self._line_time = self._epoch_time = self._last_batch_time = 0.0
        self._first_step = self._line_step = self._seen_step = 0
        self._line_batches = self._epoch_batches = 0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._started = time.monotonic()
        self._first_step = self._line_step = self._seen_step = trainer.global_step

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_time = self._line_time = time.monotonic()  # validation time is no training throughput
        self._epoch_batches = self._line_batches = 0

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        now = self._last_batch_time = time.monotonic()
        self._line_batches += 1
        self._epoch_batches += 1
        step = trainer.global_step
        if step == self._seen_step:  # accumulating gradients: no optimiser step yet
            return
        self._seen_step = step
        if step - self._line_step >= self.every_steps or now - self._line_time >= self.every_s:
            loss = trainer.progress_bar_metrics.get("train/loss_step")
            self._say(trainer, self._line(trainer, False, loss, self._line_batches, now - self._line_time, now))
            self._line_step, self._line_time, self._line_batches = step, now, 0

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics = trainer.progress_bar_metrics
        validation = metrics.get("val/loss")
        self._say(trainer, self._line(trainer, True, metrics.get("train/loss_epoch"), self._epoch_batches,
                                      self._last_batch_time - self._epoch_time, time.monotonic(),
                                      f"  val loss {validation:.4g}" if validation is not None else ""))
        self._line_step = trainer.global_step  # the next line comes EVERY_STEPS after this one

    def _line(self, trainer: pl.Trainer, epoch_end: bool, loss: float | None, batches: int, seconds: float,
              now: float, validation: str = "") -> str:
        step = trainer.global_step
        rate = batches * self.batch_size * trainer.world_size / seconds if seconds > 0 else float("nan")
        steps_done, elapsed = step - self._first_step, now - self._started
        eta = "?" if steps_done <= 0 or elapsed <= 0 else str(datetime.timedelta(
            seconds=round(max(self.total_steps - step, 0) * elapsed / steps_done)))
        epoch = f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}" + (" done" if epoch_end else "")
        shown = f"{loss:.4g}" if loss is not None else "?"
        return (f"{epoch}  step {step}/{self.total_steps}  loss {shown}{validation}  {rate:.1f} samples/s  "
                f"ETA {eta}")

    def _say(self, trainer: pl.Trainer, line: str) -> None:
        if trainer.is_global_zero:
            print(line, flush=True)


def interactive() -> bool:
    """A person watches stdout and stderr (where tqdm draws), not a log file."""
    return sys.stdout.isatty() and sys.stderr.isatty()


def progress_callback(batch_size: int, total_steps: int, gpus_per_model: int = 1) -> pl.Callback:
    """The bar in a terminal, plain lines otherwise. The ranks of a model group train the same samples:
    each rank's batch counts for ``batch_size / gpus_per_model`` samples."""
    share = batch_size / max(gpus_per_model, 1)
    if interactive():
        return ThroughputProgressBar(share)  # type: ignore[arg-type]
    return ProgressLines(share, total_steps)  # type: ignore[arg-type]
