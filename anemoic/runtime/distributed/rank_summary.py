"""A per-rank record of a run: the samples this rank trained on in its last epoch, a hash of its weights.

Written to ``RUN_DIR/ranks/rank-<r>.json`` at the end of training, so one can
check after the fact that data-parallel ranks saw disjoint data and ended with
identical weights (the DDP test does exactly that).
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


class RankSummary(pl.Callback):
    def __init__(self, directory: str | os.PathLike, loader_of: Any) -> None:
        self.directory = Path(directory)
        self.loader_of = loader_of  # () -> ResumableLoader | None (the loader is made inside fit)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loader = self.loader_of()
        summary = {
            "global_rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "global_step": trainer.global_step,
            "samples": list(loader.seen_indices) if loader is not None else [],
            "weights_sha256": weights_digest(pl_module),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.directory / f"rank-{trainer.global_rank}.json", json.dumps(summary, indent=1) + "\n")
