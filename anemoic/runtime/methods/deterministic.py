"""One state per sample: the model as it is, no noise."""

from __future__ import annotations

import torch

from anemoic.plan.model import Plan
from anemoic.runtime.methods.base import Method, Model, Stream


class Deterministic(Method):
    members = 1

    @classmethod
    def from_plan(cls, plan: Plan) -> Deterministic:
        return cls()

    def generator(self, seed: int, stream: Stream, *position: int) -> None:
        return None

    def bind(self, model: torch.nn.Module, generator: torch.Generator | None) -> Model:
        return model
