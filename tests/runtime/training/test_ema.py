"""The EMA callback's public way to score with the averaged weights outside Lightning's validation loop."""

from __future__ import annotations

import lightning.pytorch as pl
import torch

from anemoic.runtime.training.ema import ExponentialMovingAverage


class Weights(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)


def test_averaged_weights_are_swapped_in_for_the_block_and_out_after_it() -> None:
    module, ema = Weights(), ExponentialMovingAverage(0.5)
    own = {k: v.clone() for k, v in module.state_dict().items()}
    with ema.averaged_weights(module):  # before the first average: nothing to swap
        assert all(torch.equal(v, own[k]) for k, v in module.state_dict().items())
    ema.on_fit_start(None, module)  # type: ignore[arg-type]
    ema.shadow = {name: torch.full_like(p, 7.0) for name, p in ema.shadow.items()}
    with ema.averaged_weights(module):
        assert bool((module.layer.weight == 7.0).all()) and bool((module.layer.bias == 7.0).all())
    assert all(torch.equal(v, own[k]) for k, v in module.state_dict().items())
