"""``members`` states per sample, side by side along E, each rolled out on its own, made to differ by the
model's noise module drawing from a seeded generator (anemoi's EnsembleTraining).  The task grows
each input state into the members; the loss (a CRPS or the energy score) compares them with the truth."""

from __future__ import annotations

import functools

import torch

from anemoic.plan.model import Plan
from anemoic.runtime.methods.base import Method, Model, Stream, noise_generator


class Ensemble(Method):
    def __init__(self, members: int) -> None:
        if members < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {members}")
        self.members = members

    @classmethod
    def from_plan(cls, plan: Plan) -> Ensemble:
        return cls(plan.task.method.members)

    def generator(self, seed: int, stream: Stream, *position: int) -> torch.Generator:
        return noise_generator(seed, stream, *position)

    def bind(self, model: torch.nn.Module, generator: torch.Generator | None) -> Model:
        return functools.partial(model, generator=generator)
