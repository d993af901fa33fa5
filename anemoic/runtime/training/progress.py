"""A progress bar that shows the loss and the training throughput in samples per second."""

from __future__ import annotations

import time
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar


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
