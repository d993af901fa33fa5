"""Output bounding: keep physically non-negative or fractional variables in range.

Bounds act on the model output in *normalised* space, as Anemoi's ReluBounding does:
``relu`` clamps to [0, inf) (right for precipitation normalised by ``std`` or ``none``, whose
physical zero is the normalised zero), ``hardtanh`` clamps to [0, 1] (fractions normalised by
``none`` or ``min_max``). Out-of-place, so autograd sees an ordinary function.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anemoic.plan.kinds import Bounding
from anemoic.runtime.registry import pick

BOUNDINGS: dict[Bounding, Callable[[Tensor], Tensor]] = {
    "relu": F.relu,
    "hardtanh": lambda y: F.hardtanh(y, 0.0, 1.0),
}


class OutputBounding(nn.Module):
    """forward(y (..., V_out)) -> y with the listed channels bounded; other channels untouched."""

    def __init__(self, channels_by_kind: dict[str, list[int]]) -> None:
        super().__init__()
        for kind in sorted(channels_by_kind):
            pick(BOUNDINGS, kind, "output bounding")
        self.kinds = [kind for kind in BOUNDINGS if channels_by_kind.get(kind)]
        for kind in self.kinds:
            self.register_buffer(f"{kind}_channels", torch.tensor(channels_by_kind[kind]), persistent=False)

    def forward(self, y: Tensor) -> Tensor:
        for kind in self.kinds:
            channels = getattr(self, f"{kind}_channels")
            selected = y.index_select(-1, channels)
            y = y.index_copy(-1, channels, BOUNDINGS[kind](selected))
        return y

    def extra_repr(self) -> str:
        return ", ".join(f"{kind}={getattr(self, f'{kind}_channels').tolist()}" for kind in self.kinds)
