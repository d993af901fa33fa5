"""Normalise, impute and remap batches, and invert it for outputs: one ``nn.Module``.

A limited-area model's normaliser is per grid segment: ``offset``, ``scale``, ``remap`` and ``impute_value`` are
then ``(G, V)`` (``runtime.data.cutout.segmented``), each dataset's points with its own store's statistics.
All state is buffers, so it lives in the model's state_dict and a checkpoint is
self-contained.  Per variable (in the plan's ``indices.data`` order), physical
to normalised is: impute NaNs -> remap (log1p/sqrt) -> ``(x - offset) / scale``
with, per normaliser, mean_std: (mean, stdev); std: (0, stdev); min_max: (min,
max - min); max: (0, max); none: (0, 1).  A zero scale (a constant field) becomes 1.

How the training loop uses it (``x`` a raw batch ``(B, T, E, G, V_data)``)::

    pre = Preprocessor.from_store(plan, store)        # or .from_plan(plan, stats, ...)
    valid = pre.nan_mask(x)                           # bool, True where x was not NaN (before imputing)
    xn = pre.normalise(x)                             # all data variables, imputed, normalised
    model_in = xn[..., pre.input_index]               # prognostic + forcing  (= pre.normalise_input(x))
    target = xn[..., pre.output_index]                # prognostic + diagnostic
    loss_mask = valid[..., pre.output_index]          # mask imputed points out of the loss
    physical = pre.denormalise_output(y)              # model output (.., V_out) -> physical units

Routing follows the plan: forcing = input only, diagnostic = output only, prognostic = both.  ``prognostic_in_output`` /
``prognostic_in_input`` align the prognostic channels of output and input for
rollout, and ``tendency_scale`` (output order, in normalised-state units) is the
tendency stdev over the state scale, for models that predict tendencies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from anemoic.datasets.store import StoreError
from anemoic.plan.kinds import ImputerKind, Normaliser, Remap

Statistics = dict[str, float]
STORE_STATISTICS = ("mean", "stdev", "minimum", "maximum")  # what normalisers and imputers may read


class Normalisation(NamedTuple):
    statistics: tuple[str, ...]  # the store statistics it reads
    offset_scale: Callable[[Statistics], tuple[float, float]]


NORMALISERS: dict[Normaliser, Normalisation] = {
    "mean_std": Normalisation(("mean", "stdev"), lambda s: (s["mean"], s["stdev"])),
    "std": Normalisation(("stdev",), lambda s: (0.0, s["stdev"])),
    "min_max": Normalisation(("minimum", "maximum"), lambda s: (s["minimum"], s["maximum"] - s["minimum"])),
    "max": Normalisation(("maximum",), lambda s: (0.0, s["maximum"])),
    "none": Normalisation((), lambda s: (0.0, 1.0)),
}


class Remapping(NamedTuple):
    """A monotone remap of non-negative values (negative ones count as 0), in each form needed here."""

    code: int  # in the ``remap`` buffer, which checkpoints hold (0: no remap)
    numpy: Callable[[np.ndarray], np.ndarray]
    forward: Callable[[torch.Tensor], torch.Tensor]
    inverse: Callable[[torch.Tensor], torch.Tensor]
    slope: Callable[[float], float]  # the derivative, for first-order statistics


REMAPS: dict[Remap, Remapping] = {
    "log1p": Remapping(1, np.log1p, torch.log1p, torch.expm1, lambda m: 1.0 / (1.0 + m)),
    "sqrt": Remapping(2, np.sqrt, torch.sqrt, lambda y: y.clamp_min(0.0) ** 2,
                      lambda m: 0.5 / np.sqrt(max(m, 1e-12))),
}


def remap_numpy(values: np.ndarray, remap: Remap | None) -> np.ndarray:
    return REMAPS[remap].numpy(np.maximum(values, 0.0)) if remap is not None else values


def _offset_scale(normaliser: Normaliser, stats: Statistics) -> tuple[float, float]:
    offset, scale = NORMALISERS[normaliser].offset_scale(stats)
    return float(offset), float(scale) if scale != 0 and np.isfinite(scale) else 1.0


class Preprocessor(nn.Module):
    def __init__(self, *, names: tuple[str, ...], offset: np.ndarray, scale: np.ndarray, remap: np.ndarray,
                 impute_value: np.ndarray, copy_source: np.ndarray, input_index: list[int], output_index: list[int],
                 tendency_scale: np.ndarray, prognostic_in_input: list[int],
                 prognostic_in_output: list[int]) -> None:
        super().__init__()
        self.names = names
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer("remap", torch.tensor(remap, dtype=torch.int64))
        self.register_buffer("impute_value", torch.tensor(impute_value, dtype=torch.float32))
        self.register_buffer("copy_source", torch.tensor(copy_source, dtype=torch.int64))
        self.register_buffer("input_index", torch.tensor(input_index, dtype=torch.int64))
        self.register_buffer("output_index", torch.tensor(output_index, dtype=torch.int64))
        self.register_buffer("tendency_scale", torch.tensor(tendency_scale, dtype=torch.float32))
        self.register_buffer("prognostic_in_input", torch.tensor(prognostic_in_input, dtype=torch.int64))
        self.register_buffer("prognostic_in_output", torch.tensor(prognostic_in_output, dtype=torch.int64))
        copies = [(i, int(s)) for i, s in enumerate(copy_source) if s >= 0]
        self._copy_to = [i for i, _ in copies]
        self._copy_from = [s for _, s in copies]
        self._remapped = bool((np.asarray(remap) > 0).any())

    # -- construction -----------------------------------------------------------------------------------

    BUFFERS = ("offset", "scale", "remap", "impute_value", "copy_source", "input_index", "output_index",
               "tendency_scale", "prognostic_in_input", "prognostic_in_output")

    @classmethod
    def from_buffers(cls, names: tuple[str, ...], state: dict[str, torch.Tensor], prefix: str = "") -> "Preprocessor":
        """Rebuild from its saved buffers (an inference checkpoint's weights), without the store."""
        values = {name: state[prefix + name].numpy() for name in cls.BUFFERS}
        return cls(names=names, **{k: (v.tolist() if k.endswith(("_index", "_input", "_output")) else v)
                                   for k, v in values.items()})

    @classmethod
    def from_store(cls, plan: Any, store: Any, remapped_statistics: dict[str, dict[str, float]] | None = None
                   ) -> "Preprocessor":
        tendencies = store.tendency_statistics(plan.task.timestep_s)
        return cls.from_plan(plan, store.statistics, remapped_statistics=remapped_statistics,
                             tendency_statistics=tendencies, store_name=str(store.path))

    @classmethod
    def from_plan(cls, plan: Any, store_statistics: dict[str, np.ndarray], *,
                  remapped_statistics: dict[str, dict[str, float]] | None = None,
                  tendency_statistics: dict[str, np.ndarray] | None = None,
                  store_name: str | None = None) -> "Preprocessor":
        """Build from `plan.variables`/`plan.indices` and the store's statistics (arrays in store order).

        `remapped_statistics` (name -> {"mean", "stdev", "minimum", "maximum"}) are the statistics
        of remapped variables after remapping; without them they are derived from the store's
        (exact for minimum/maximum, first-order for mean/stdev).
        """
        where = store_name or plan.dataset.path
        by_name = {v.name: v for v in plan.variables}
        names = tuple(plan.indices.data)
        position = {n: i for i, n in enumerate(names)}
        n = len(names)
        offset, scale = np.zeros(n), np.ones(n)
        remap, impute_value = np.zeros(n, np.int64), np.full(n, np.nan)
        copy_source = np.full(n, -1, np.int64)
        for i, name in enumerate(names):
            var = by_name[name]
            if var.remap is not None and var.remap not in REMAPS:
                raise StoreError(f"dataset {where}: remap {var.remap!r} of {name!r} is not supported "
                                 f"({', '.join(REMAPS)})")
            if var.normaliser not in NORMALISERS:
                raise StoreError(f"dataset {where}: unknown normaliser {var.normaliser!r} for {name!r}")
            remap[i] = REMAPS[var.remap].code if var.remap is not None else 0
            raw = cls._variable_statistics(var, store_statistics, where)
            stats = raw
            if var.remap and name in (remapped_statistics or {}):
                stats = dict(remapped_statistics[name])
            elif var.remap:
                stats = _remap_statistics(raw, var.remap)
            offset[i], scale[i] = _offset_scale(var.normaliser, stats)
            if var.imputer is not None:  # fill values are physical: imputing happens before remapping
                impute_value[i], copy_source[i] = _imputer(var, raw, position, where)
        tendency = np.ones(len(plan.indices.output))
        if tendency_statistics and "stdev" in tendency_statistics:
            for j, name in enumerate(plan.indices.output):
                var = by_name[name]
                if var.store_index >= 0 and not var.remap and var.role == "prognostic":
                    value = float(tendency_statistics["stdev"][var.store_index]) / scale[position[name]]
                    tendency[j] = value if np.isfinite(value) and value > 0 else 1.0
        prognostic = plan.indices.prognostic
        return cls(
            names=names, offset=offset, scale=scale, remap=remap, impute_value=impute_value, copy_source=copy_source,
            input_index=[position[v] for v in plan.indices.input],
            output_index=[position[v] for v in plan.indices.output],
            tendency_scale=tendency,
            prognostic_in_input=[list(plan.indices.input).index(v) for v in prognostic],
            prognostic_in_output=[list(plan.indices.output).index(v) for v in prognostic],
        )

    @staticmethod
    def _variable_statistics(var: Any, statistics: dict[str, np.ndarray], where: str) -> dict[str, float]:
        if var.store_index < 0:  # computed forcings are already O(1)
            return {"mean": 0.0, "stdev": 1.0, "minimum": -1.0, "maximum": 1.0}
        out = {k: float(v[var.store_index]) for k, v in statistics.items() if k in STORE_STATISTICS}
        needed = set(NORMALISERS[var.normaliser].statistics)
        if var.imputer is not None and var.imputer.kind == "statistic":
            needed.add(var.imputer.statistic or "mean")
        missing = sorted(s for s in needed if s not in out or not np.isfinite(out[s]))
        if missing:
            raise StoreError(
                f"dataset {where}: statistics {', '.join(missing)} are missing for {var.name!r}, "
                f"which the plan normalises with {var.normaliser}"
            )
        return out

    # -- the transforms ---------------------------------------------------------------------------------

    def nan_mask(self, x: torch.Tensor) -> torch.Tensor:
        """True where `x` (data order, physical) holds a value, False where it is NaN."""
        return ~torch.isnan(x)

    def impute(self, x: torch.Tensor) -> torch.Tensor:
        """Fill NaNs: statistic/constant values first, then copies (of the source's filled values)."""
        nans = torch.isnan(x)
        filled = torch.where(nans, self.impute_value.to(x.dtype).expand_as(x), x)
        if self._copy_to:
            copied = torch.where(nans[..., self._copy_to], filled[..., self._copy_from], filled[..., self._copy_to])
            filled = filled.clone()
            filled[..., self._copy_to] = copied
        return filled

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-order physical `x` (..., V_data) -> imputed, remapped, normalised (same shape)."""
        return self._forward(self.impute(x), slice(None))

    def normalise_input(self, x: torch.Tensor) -> torch.Tensor:
        return self.normalise(x)[..., self.input_index]

    def normalise_output(self, y: torch.Tensor) -> torch.Tensor:
        """Output-order physical `y` (..., V_out) -> normalised (statistic/constant imputation only)."""
        index = self.output_index
        y = torch.where(torch.isnan(y), self.impute_value[..., index].to(y.dtype).expand_as(y), y)
        return self._forward(y, index)

    def denormalise_output(self, y: torch.Tensor) -> torch.Tensor:
        """Output-order normalised `y` (..., V_out) -> physical units (remaps inverted)."""
        return self._inverse(y, self.output_index)

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        """Data-order normalised `x` -> physical units."""
        return self._inverse(x, slice(None))

    def _forward(self, x: torch.Tensor, index: Any) -> torch.Tensor:
        if self._remapped:  # torch.where, not masks times values: inf * 0 would be NaN
            remap, positive = self.remap[..., index], x.clamp_min(0.0)
            for r in REMAPS.values():
                x = torch.where(remap == r.code, r.forward(positive), x)
        return (x - self.offset[..., index].to(x.dtype)) / self.scale[..., index].to(x.dtype)

    def _inverse(self, x: torch.Tensor, index: Any) -> torch.Tensor:
        x = x * self.scale[..., index].to(x.dtype) + self.offset[..., index].to(x.dtype)
        if self._remapped:
            remap, remapped = self.remap[..., index], x
            for r in REMAPS.values():
                x = torch.where(remap == r.code, r.inverse(remapped), x)
        return x


def _remap_statistics(stats: Statistics, remap: Remap) -> Statistics:
    """Statistics after a monotone remap: exact for extremes, first order (delta method) for mean/stdev."""
    out = {k: float(remap_numpy(np.array(stats[k]), remap)) for k in ("minimum", "maximum") if k in stats}
    if "mean" in stats:
        mean = max(stats["mean"], 0.0)
        out["mean"] = float(remap_numpy(np.array(mean), remap))
        if "stdev" in stats:
            out["stdev"] = float(stats["stdev"] * REMAPS[remap].slope(mean))
    return out


def _statistic(var: Any, stats: Statistics, position: dict[str, int], where: str) -> tuple[float, int]:
    return stats[var.imputer.statistic or "mean"], -1


def _constant(var: Any, stats: Statistics, position: dict[str, int], where: str) -> tuple[float, int]:
    if var.imputer.value is None:
        raise StoreError(f"dataset {where}: constant imputer of {var.name!r} has no value")
    return float(var.imputer.value), -1


def _copy(var: Any, stats: Statistics, position: dict[str, int], where: str) -> tuple[float, int]:
    if var.imputer.source not in position:
        raise StoreError(f"dataset {where}: copy imputer of {var.name!r} copies {var.imputer.source!r}, "
                         f"which is not loaded")
    return float("nan"), position[var.imputer.source]


IMPUTERS: dict[ImputerKind, Callable[[Any, Statistics, dict[str, int], str], tuple[float, int]]] = {
    "statistic": _statistic, "constant": _constant, "copy": _copy,
}
"""Per imputer kind: ``(variable, its store statistics, data positions, store) -> (physical fill value or NaN,
copy-source position or -1)``."""


def _imputer(var: Any, stats: Statistics, position: dict[str, int], where: str) -> tuple[float, int]:
    if var.imputer.kind not in IMPUTERS:
        raise StoreError(f"dataset {where}: unknown imputer kind {var.imputer.kind!r} for {var.name!r}")
    return IMPUTERS[var.imputer.kind](var, stats, position, where)
