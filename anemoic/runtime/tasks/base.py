"""What the training loop needs from a task; forecaster today, ensemble/interpolator/autoencoder later.

A task knows how a batch of consecutive states becomes model inputs, predictions
and targets.  It holds no parameters: the model and loss are passed in, so the
Lightning module owns every ``nn.Module`` and checkpoints stay plain state_dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import torch

Model = Callable[[torch.Tensor], torch.Tensor]
LossFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class RolloutResult:
    """Normalised tensors of one validation rollout, each ``(B, R, E, G, V_out)``."""

    predictions: torch.Tensor
    targets: torch.Tensor
    persistence: torch.Tensor  # the last input state held constant (a baseline)


class Task(Protocol):
    def training_window(self) -> int:
        """States per training sample (inputs + the largest rollout)."""

    def validation_window(self) -> int:
        """States per validation sample."""

    def training_loss(self, model: Model, loss_fn: LossFn, batch: torch.Tensor, epoch: int,
                      missing: torch.Tensor | None = None) -> torch.Tensor:
        """Mean loss over the rollout of this epoch; ``batch`` is normalised ``(B, T, E, G, V_data)``,
        ``missing`` (same shape, bool) marks imputed values the loss must not see."""

    def validation_rollout(self, model: Model, batch: torch.Tensor, steps: int | None = None) -> RolloutResult:
        """Predictions and targets over the validation rollout (no gradients needed by the caller)."""
