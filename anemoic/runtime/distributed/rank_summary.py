"""A per-rank record of a run: the samples this rank trained on in its last epoch, a hash of its weights,
the training loss it logged at each step, and the grid points its loader read.

Written to ``RUN_DIR/ranks/rank-<r>.json`` at the end of training, so one can
check after the fact that data-parallel ranks saw disjoint data and ended with
identical weights, and that every parallel layout logged the same losses (the DDP
and sharding tests do exactly that).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from anemoic.plan.io import write_text_atomic


def weights_digest(module: torch.nn.Module) -> str:
    """sha256 over the names and bytes of every parameter and buffer, in state_dict order."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class Series:
    """Scalars recorded at every step without waiting for the device at every step: kept as tensors and
    copied to the host every ``flush_every`` values (one synchronisation per that many steps)."""

    def __init__(self, flush_every: int = 256) -> None:
        self.values: list[float] = []
        self._pending: list[torch.Tensor] = []
        self.flush_every = flush_every

    def add(self, value: torch.Tensor) -> None:
        self._pending.append(value.detach().reshape(()).double())
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> list[float]:
        if self._pending:
            self.values += torch.stack(self._pending).cpu().tolist()
            self._pending = []
        return self.values


class RankSummary(pl.Callback):
    def __init__(self, directory: str | os.PathLike, loader_of: Any, read_slice_of: Any = lambda: slice(None)) -> None:
        self.directory = Path(directory)
        self.loader_of = loader_of  # () -> ResumableLoader | None (the loader is made inside fit)
        self.read_slice_of = read_slice_of  # () -> the grid points this rank's loader reads (known inside fit)
        self.losses = Series()  # train/loss as logged (reduced over the ranks) at each batch of this process
        self.gradient_norms = Series()  # of the synchronised gradient, before clipping, at each optimiser step

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        logged = trainer.callback_metrics.get("train/loss_step")
        if isinstance(logged, torch.Tensor):
            self.losses.add(logged)

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any) -> None:
        norms = [torch.linalg.vector_norm(p.grad.detach(), dtype=torch.float64) for p in pl_module.parameters()
                 if p.grad is not None]
        if norms:
            self.gradient_norms.add(torch.linalg.vector_norm(torch.stack(norms)))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loader = self.loader_of()
        summary = {
            "global_rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "global_step": trainer.global_step,
            "samples": list(loader.seen_indices) if loader is not None else [],
            "weights_sha256": weights_digest(pl_module),
            "losses": self.losses.flush(),
            "gradient_norms": self.gradient_norms.flush(),
            "read_grid": [self.read_slice_of().start, self.read_slice_of().stop],
            "validation": {k: float(v) for k, v in sorted(trainer.callback_metrics.items()) if k.startswith("val/")},
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.directory / f"rank-{trainer.global_rank}.json", json.dumps(summary, indent=1) + "\n")
