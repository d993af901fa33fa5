"""Exponential moving average of the model weights (Anemoi's EMA callback, in ~60 lines).

The shadow weights are updated after every optimiser step, swapped in for
validation (so validation scores and the end-of-run report measure the EMA
model) and saved in the checkpoint as plain tensors under the callback's state;
``predict`` uses them when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightning.pytorch as pl
import torch

EMA_STATE_PREFIX = "ExponentialMovingAverage"


class ExponentialMovingAverage(pl.Callback):
    def __init__(self, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] = {}
        self._backup: dict[str, torch.Tensor] = {}
        self._last_step = -1

    def _parameters(self, pl_module: pl.LightningModule) -> dict[str, torch.Tensor]:
        return {name: p for name, p in pl_module.named_parameters() if p.requires_grad}

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for name, p in self._parameters(pl_module).items():
            if name not in self.shadow:
                self.shadow[name] = p.detach().clone()
            else:
                self.shadow[name] = self.shadow[name].to(p.device)

    @torch.no_grad()
    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if trainer.global_step == self._last_step:  # accumulating gradients: no optimiser step yet
            return
        self._last_step = trainer.global_step
        for name, p in self._parameters(pl_module).items():
            self.shadow[name].lerp_(p.detach(), 1.0 - self.decay)

    def _swap_in(self, pl_module: pl.LightningModule) -> None:
        for name, p in self._parameters(pl_module).items():
            self._backup[name] = p.detach().clone()
            p.data.copy_(self.shadow[name])

    def _swap_out(self, pl_module: pl.LightningModule) -> None:
        for name, p in self._parameters(pl_module).items():
            p.data.copy_(self._backup.pop(name))

    @contextmanager
    def averaged_weights(self, pl_module: pl.LightningModule) -> Iterator[None]:
        """The averaged weights in ``pl_module`` inside the block, its own ones back after it (for scoring
        outside Lightning's validation loop; before the first average it changes nothing)."""
        if not self.shadow:
            yield
            return
        self._swap_in(pl_module)
        try:
            yield
        finally:
            self._swap_out(pl_module)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.shadow and not trainer.sanity_checking:
            self._swap_in(pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._backup:
            self._swap_out(pl_module)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "shadow": {k: v.detach().cpu() for k, v in self.shadow.items()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.shadow = {k: v.clone() for k, v in state_dict.get("shadow", {}).items()}
