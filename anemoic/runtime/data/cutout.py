"""A limited-area model's samples: the region's store and the boundary store around it, on one grid.

The sample's valid times come from the task's window over the region's dates; the boundary store is read at
the same valid times, found by date, so its frequency may be finer (any divisor of the timestep).  A window
any of whose dates is absent or missing (the store's ``missing_dates``) in either store makes no sample; the
data module reports how many were skipped and why, once.  Each sample lies on the cut-out grid
(``anemoic.graphs.cutout``): the region's points from the region's store with the region's variables, then
the boundary's points (``boundary_index``) from the boundary store with the boundary's variables: store
indices, imputers, computed forcings at its own coordinates, and normalisers with its own store's
statistics (``segmented``: the normaliser's buffers become ``(G, V)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from anemoic.datasets.store import Store
from anemoic.runtime.data.dataset import WindowDataset
from anemoic.runtime.data.preprocessing import Preprocessor

SHOWN_DATES = 3  # dates named in the skipped-samples line, then "..."


@dataclass(frozen=True)
class Skipped:
    """Windows of a split that made no sample because a store lacks one of their dates."""

    split: str
    count: int
    by_dataset: tuple[tuple[str, tuple[np.datetime64, ...]], ...]  # (dataset name, the absent dates)

    def message(self) -> str:
        """One line, e.g. ``3 training samples skipped: dates missing in globe (2020-01-03T06, ...)``."""
        parts = []
        for name, dates in self.by_dataset:
            shown = [str(d)[:13] for d in dates[:SHOWN_DATES]] + (["..."] if len(dates) > SHOWN_DATES else [])
            parts.append(f"dates missing in {name} ({', '.join(shown)})")
        noun = "training" if self.split == "train" else "validation"
        return f"{self.count} {noun} sample{'s' if self.count != 1 else ''} skipped: {'; '.join(parts)}"


def held(store: Store, dates: np.ndarray) -> np.ndarray:
    """Per date of ``dates``: whether ``store`` holds it and does not list it as missing."""
    index = np.minimum(np.searchsorted(store.dates, dates), len(store.dates) - 1)
    missing = np.isin(dates, np.asarray(store.metadata.missing_dates, dtype="datetime64[s]"))
    return (store.dates[index] == dates) & ~missing


def aligned_windows(region: Store, boundary: Store, names: tuple[str, str], split: str, start: str, end: str,
                    step: int, length: int, boundary_step: int) -> tuple[np.ndarray, np.ndarray, Skipped]:
    """(region starts, boundary starts, what was skipped): every window of ``length`` region dates ``step``
    apart inside [start, end] whose dates both stores hold."""
    dates = region.dates
    inside = np.flatnonzero((dates >= np.datetime64(start, "s")) & (dates <= np.datetime64(end, "s")))
    span = (length - 1) * step
    firsts = inside[inside + span <= (inside[-1] if len(inside) else -1)]
    offsets = firsts[:, None] + np.arange(length) * step  # (windows, length) region date indices
    usable = [held(store, dates) for store in (region, boundary)]
    ok = np.logical_and(*(u[offsets].all(axis=1) for u in usable)) if len(firsts) else np.zeros(0, bool)
    absent = [(name, np.unique(dates[offsets[~ok]][~u[offsets[~ok]]])) for name, u in zip(names, usable)]
    keep = firsts[ok]
    where = np.searchsorted(boundary.dates, dates[offsets[ok]])  # (kept windows, length) boundary indices
    if len(keep) and not (np.diff(where, axis=1) == boundary_step).all():
        raise boundary.error(f"its dates are not regular around the region's: it is read at the region's valid "
                             f"times, every {boundary_step} of its dates")
    skipped = Skipped(split, int((~ok).sum()), tuple((name, tuple(found)) for name, found in absent if len(found)))
    return keep.astype(np.int64), (where[:, 0] if len(keep) else where.reshape(-1)).astype(np.int64), skipped


class CutoutWindowDataset(Dataset):
    """Item ``i``: the region's window then the boundary's at the same valid times, along the grid axis."""

    def __init__(self, region: WindowDataset, boundary: WindowDataset) -> None:
        if len(region) != len(boundary):
            raise ValueError(f"{len(region)} region windows but {len(boundary)} boundary windows")
        self.region, self.boundary = region, boundary

    def __len__(self) -> int:
        return len(self.region)

    def dates(self, index: int) -> np.ndarray:
        return self.region.dates(index)

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.from_numpy(self.read(index))

    def read(self, index: int) -> np.ndarray:
        return np.concatenate([self.region.read(index), self.boundary.read(index)], axis=2)


def boundary_view(plan: Any) -> Any:
    """The plan as the boundary store sees it: its dataset and variables, the rest (indices, task) shared."""
    return replace(plan, dataset=plan.boundary.dataset, variables=plan.boundary.variables, boundary=None,
                   task=replace(plan.task, output_mask=None))


def segmented(region: Preprocessor, boundary: Preprocessor, region_size: int, boundary_size: int) -> Preprocessor:
    """One preprocessor over the cut-out grid: the region's points normalised (and imputed) with the region's
    statistics, the boundary's with the boundary store's.  Tendency scales are the region's: only the
    region's predictions are scored, the boundary's are overwritten by the data."""

    def per_point(name: str) -> np.ndarray:
        inner, outer = getattr(region, name).numpy(), getattr(boundary, name).numpy()
        return np.concatenate([np.broadcast_to(inner, (region_size, inner.shape[-1])),
                               np.broadcast_to(outer, (boundary_size, outer.shape[-1]))])

    indices = {name: getattr(region, name).tolist() for name in
               ("input_index", "output_index", "prognostic_in_input", "prognostic_in_output")}
    return Preprocessor(names=region.names, offset=per_point("offset"), scale=per_point("scale"),
                        remap=per_point("remap"), impute_value=per_point("impute_value"),
                        copy_source=region.copy_source.numpy(), tendency_scale=region.tendency_scale.numpy(),
                        **indices)
