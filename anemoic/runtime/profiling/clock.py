"""Wall-clock time per phase of a training step, synchronised with the GPU at every boundary.

A CUDA kernel returns before it has run, so a timer around it on the host would charge its time to
whichever later phase waits first; ``torch.cuda.synchronize`` at each boundary makes every phase
own its own kernels (profiling costs that overlap; the numbers say where time goes, not how fast
an unsynchronised step runs). Phases never overlap: the model's components are timed inside the
forward phase by hooks and subtracted from it, so the phases of a step add up to the step.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

COMPONENTS = ("encoder", "processor", "decoder")  # the model's parts timed by hooks inside the forward phase


class PhaseClock:
    """Accumulates seconds per phase; ``steps`` records each whole step's wall time."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.totals: dict[str, float] = defaultdict(float)
        self.steps: list[float] = []
        self.phase: str | None = None  # the phase running now (hooks record only inside "forward")
        self._started: dict[str, float] = {}

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()

    def now(self) -> float:
        self.sync()
        return time.perf_counter()

    @contextmanager
    def measure(self, phase: str) -> Iterator[None]:
        started, self.phase = self.now(), phase
        try:
            yield
        finally:
            self.totals[phase] += self.now() - started
            self.phase = None

    def start(self, name: str) -> None:
        self._started[name] = self.now()

    def stop(self, name: str) -> None:
        if name in self._started:
            self.totals[name] += self.now() - self._started.pop(name)

    def reset(self) -> None:
        self.totals.clear()
        self.steps.clear()


def time_components(model: torch.nn.Module, clock: PhaseClock) -> Callable[[], None]:
    """Hooks timing ``model.encoder/processor/decoder`` during the forward phase (a recomputation under
    activation checkpointing runs in the backward phase and stays there); returns the remover."""
    handles: list[Any] = []
    for name in COMPONENTS:
        part = getattr(model, name, None)
        if part is None:
            continue

        def before(_module: Any, _args: Any, name: str = name) -> None:
            if clock.phase == "forward":
                clock.start(name)

        def after(_module: Any, _args: Any, _output: Any, name: str = name) -> None:
            if clock.phase == "forward":
                clock.stop(name)

        handles += [part.register_forward_pre_hook(before), part.register_forward_hook(after)]
    return lambda: [h.remove() for h in handles]  # type: ignore[func-returns-value]


def timed_loss(loss_fn: Callable[..., torch.Tensor], clock: PhaseClock) -> Callable[..., torch.Tensor]:
    """The loss as the task calls it, its time counted as phase ``loss`` (inside the forward phase)."""

    def call(*args: Any, **kwargs: Any) -> torch.Tensor:
        clock.start("loss")
        try:
            return loss_fn(*args, **kwargs)
        finally:
            clock.stop("loss")

    return call
