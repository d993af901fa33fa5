"""Debug mode (``train { debug = true }`` or ``exec --debug``): find a bad value before the GPU hours go.

A debug run trains on the first few samples only, with deterministic algorithms and autograd's anomaly
detection, and a guard that stops at the first NaN or infinity of a training step and says where it
appeared, in the order the step meets them:

- the raw input (the batch as read, physical units): a NaN is allowed only where the plan imputes;
- the normalised input (after imputing, remapping and scaling);
- inside the model: the input embedding (what reaches the encoder), the encoder's output, an ensemble's
  noise (what reaches the processor), the processor's and decoder's outputs, and the model output (per
  rollout lead) -- the first one non-finite made it;
- the loss.

The message is one line: the variable, grid point (index, latitude and longitude) and date where the
data says so, the training step and rollout lead, and the component inside the model. The guard costs
nothing when off (``ForecastModule.guard`` is None) and a synchronisation per check when on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from anemoic.datasets.store import to_datetime
from anemoic.runtime.errors import RuntimeUserError

TRAIN_SAMPLES, VALIDATION_SAMPLES = 16, 4  # the small subset of dates a debug run trains and validates on
COMPONENTS = ("encoder", "processor", "decoder")


class NonFiniteValue(RuntimeUserError):
    """The guard's stop: one line, exit code 3 (the data or the model, not the command, is wrong)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"error: debug: {message}", exit_code=3)


def debug_subset(data: Any) -> str:
    """Keep the first ``TRAIN_SAMPLES`` training and ``VALIDATION_SAMPLES`` validation windows of an
    ``AnemoicDataModule``; the note that says so."""
    train, validate = len(data.train_starts), len(data.validation_starts)
    data.train_starts = data.train_starts[:TRAIN_SAMPLES]
    data.validation_starts = data.validation_starts[:VALIDATION_SAMPLES]
    dates = data.store.dates
    first, last = dates[int(data.train_starts[0])], dates[int(data.train_starts[-1])]
    return (f"debug: training on {len(data.train_starts)} of {train} samples (windows starting "
            f"{to_datetime(first):%Y-%m-%dT%H:%M} to {to_datetime(last):%Y-%m-%dT%H:%M}), validating on "
            f"{len(data.validation_starts)} of {validate}; deterministic algorithms, autograd anomaly detection "
            "and the NaN/Inf guard are on")


def _kind(value: float) -> str:
    return "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")


def _first(bad: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in bad.nonzero()[0].tolist())


class NonFiniteGuard:
    """Checks a training step's tensors; raises ``NonFiniteValue`` at the first bad one.

    ``data_variables``/``output_variables``: the plan's ``indices.data`` and ``indices.output``;
    ``nan_allowed``: per data variable, True where the plan imputes (a NaN there is data, not a fault);
    ``sample_dates(b, batch_size)``: the valid dates of sample ``b`` of the current training batch;
    ``target_times(steps)``: the task's window positions of its first ``steps`` targets (``Task.target_times``),
    so a bad output is dated for every task: a forecaster's lead, a downscaler's target, an autoencoder's state.
    """

    def __init__(self, data_variables: Sequence[str], output_variables: Sequence[str], nan_allowed: Sequence[bool],
                 latitudes: np.ndarray, longitudes: np.ndarray,
                 target_times: Callable[[int], slice | list[int]],
                 sample_dates: Callable[[int, int], np.ndarray | None]) -> None:
        self.data_variables, self.output_variables = tuple(data_variables), tuple(output_variables)
        self.nan_allowed = torch.tensor(list(nan_allowed), dtype=torch.bool)
        self.latitudes, self.longitudes = np.asarray(latitudes), np.asarray(longitudes)
        self.target_times = target_times
        self.sample_dates = sample_dates
        self.active = False
        self.step, self.lead, self.batch_size = 0, 0, 1
        self._handles: list[Any] = []

    # -- where a value sits ------------------------------------------------------------------------------
    def _point(self, grid: int) -> str:
        return f"grid point {grid} (lat {self.latitudes[grid]:.2f}, lon {self.longitudes[grid]:.2f})"

    def _date(self, sample: int, time: int) -> str:
        dates = self.sample_dates(sample, self.batch_size)
        if dates is None or time >= len(dates):
            return "date unknown"
        return f"date {to_datetime(dates[time]):%Y-%m-%dT%H:%M}"

    def _at(self) -> str:
        return f"training step {self.step}"

    # -- the step, in order ------------------------------------------------------------------------------
    def begin(self, step: int, batch: torch.Tensor) -> None:
        """A training step starts: check the raw batch ``(B, T, E, G, V_data)``."""
        self.step, self.lead, self.batch_size, self.active = step, 0, batch.shape[0], True
        allowed = self.nan_allowed.to(batch.device)
        bad = ~torch.isfinite(batch) & ~(torch.isnan(batch) & allowed)
        if bool(bad.any()):
            b, t, e, g, v = _first(bad)
            value = float(batch[b, t, e, g, v])
            raise NonFiniteValue(f"{_kind(value)} in the raw input at {self._at()}: variable "
                                 f"'{self.data_variables[v]}', {self._point(g)}, {self._date(b, t)}")

    def normalised(self, x: torch.Tensor) -> None:
        bad = ~torch.isfinite(x.detach())
        if bool(bad.any()):
            b, t, e, g, v = _first(bad)
            raise NonFiniteValue(f"{_kind(float(x[b, t, e, g, v]))} in the normalised input at {self._at()} (the raw "
                                 f"value was finite): variable '{self.data_variables[v]}', {self._point(g)}, "
                                 f"{self._date(b, t)}; look at its normaliser, remap or statistics")

    def loss(self, loss: torch.Tensor) -> None:
        """The step's loss; the last check of a step."""
        self.active = False
        if not bool(torch.isfinite(loss.detach()).all()):
            raise NonFiniteValue(f"{_kind(float(loss.detach()))} in the loss at {self._at()} (inputs and model "
                                 "outputs were finite); look at the loss's scalers and weights")

    # -- inside the model ------------------------------------------------------------------------------
    def attach(self, model: torch.nn.Module) -> None:
        """Hooks on the model's components and its output, checking only during a guarded step."""
        encoder, processor = getattr(model, "encoder", None), getattr(model, "processor", None)
        if encoder is not None:
            self._handles.append(encoder.register_forward_pre_hook(self._embedding))
        if processor is not None and getattr(model, "noise", None) is not None:
            self._handles.append(processor.register_forward_pre_hook(self._noise))
        for name in COMPONENTS:
            part = getattr(model, name, None)
            if part is not None:
                self._handles.append(part.register_forward_hook(self._component(name)))
        self._handles.append(model.register_forward_hook(self._output))

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _latent(self, tensor: torch.Tensor, where: str, nodes: str, why: str) -> None:
        bad = ~torch.isfinite(tensor.detach())
        if bool(bad.any()):
            b, node, channel = _first(bad)
            point = self._point(node) if nodes == "grid" else f"hidden node {node}"
            raise NonFiniteValue(f"{_kind(float(tensor[b, node, channel].detach()))} in {where} at {self._at()}, "
                                 f"rollout lead {self.lead + 1}: {point}, channel {channel} ({why})")

    def _embedding(self, _module: Any, args: tuple) -> None:
        if self.active:
            self._latent(args[0], "the input embedding", "grid",
                         "what reaches the encoder; the normalised input was finite")

    def _noise(self, _module: Any, args: tuple) -> None:
        if self.active:
            self._latent(args[0], "the ensemble's noise", "hidden",
                         "what reaches the processor; the encoder's output was finite")

    def _component(self, name: str) -> Callable[..., None]:
        nodes = "grid" if name == "decoder" else "hidden"

        def check(_module: Any, _args: Any, output: Any) -> None:
            if self.active:
                self._latent(output, f"the {name}'s output", nodes, f"its input was finite: the {name} made it")

        return check

    def _output(self, _module: Any, _args: Any, output: torch.Tensor) -> None:
        if not self.active:
            return
        self.lead += 1
        bad = ~torch.isfinite(output.detach())
        if not bool(bad.any()):
            return
        if output.dim() == 5:  # a downscaler's targets, all at once: (B, S, E, G, V)
            b, s, e, g, v = _first(bad)
            value, when, position = output[b, s, e, g, v], f"target {s + 1}", _positions(self.target_times(s + 1))[s]
        else:  # one state per pass: (B, E, G, V)
            b, e, g, v = _first(bad)
            value, when, position = output[b, e, g, v], f"rollout lead {self.lead}", \
                _positions(self.target_times(self.lead))[-1]
        raise NonFiniteValue(f"{_kind(float(value.detach()))} in the model output at {self._at()}, {when} (the "
                             "decoder's output was finite: the output head made it): variable "
                             f"'{self.output_variables[v]}', {self._point(g)}, target {self._date(b, position)}")


def _positions(times: slice | list[int]) -> list[int]:
    return list(range(times.start, times.stop)) if isinstance(times, slice) else list(times)


def build_guard(plan: Any, data: Any, loader: Callable[[], Any], task: Any) -> NonFiniteGuard:
    """The guard of a run: ``data`` an ``AnemoicDataModule`` (already cut to the debug subset), ``loader``
    returns the current ``ResumableLoader``, whose handed-out sample indices date the batch; ``task`` the
    run's task, which places its targets in the window."""
    dataset = data.dataset("train")

    def sample_dates(sample: int, batch_size: int) -> np.ndarray | None:
        current = loader()
        seen = current.seen_indices[-batch_size:] if current is not None else []
        return dataset.dates(seen[sample]) if sample < len(seen) else None

    return NonFiniteGuard(plan.indices.data, plan.indices.output, [c.nan_allowed for c in data.channels],
                          data.latitudes, data.longitudes, task.target_times, sample_dates)
