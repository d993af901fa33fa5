"""What the training loop, the report and ``predict`` need from a method.

A method says how many states a sample predicts side by side (``members``, along the ensemble
dimension E) and hands the task the model to roll out, bound to the noise generator of the moment.
It holds no parameters: the model owns the noise module, the loss is built from the plan.
"""

from __future__ import annotations

import enum
import hashlib
from abc import ABC, abstractmethod
from typing import Callable

import torch

from anemoic.plan.model import Plan

Model = Callable[[torch.Tensor], torch.Tensor]


class Stream(enum.IntEnum):
    """Which noise stream a draw belongs to: training, validation, the end-of-run scores, a forecast."""

    TRAIN = 0
    VALIDATE = 1
    SCORE = 2
    FORECAST = 3


def noise_generator(seed: int, stream: Stream, *position: int) -> torch.Generator:
    """A CPU generator seeded from the plan's seed, the stream and a position in it (epoch, batch, rank...):
    the same run draws the same noise however it is resumed, and no other random consumer shifts it."""
    text = ",".join(str(int(part)) for part in (seed, stream, *position))
    generator = torch.Generator()
    generator.manual_seed(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1)
    return generator


class Method(ABC):
    members: int

    @classmethod
    @abstractmethod
    def from_plan(cls, plan: Plan) -> Method:
        """The method of ``plan.task.method``."""

    @abstractmethod
    def generator(self, seed: int, stream: Stream, *position: int) -> torch.Generator | None:
        """The noise generator of one draw, or None for a method without noise."""

    @abstractmethod
    def bind(self, model: torch.nn.Module, generator: torch.Generator | None) -> Model:
        """``model`` as the task calls it: ``x (B, T, E, G, V_in) -> (B, E, G, V_out)``."""
