"""Climatology baseline: the training-period mean for the calendar month and hour of a valid time.

A forecast that cannot beat the mean of the same month and time of day has
learnt nothing useful, so the end-of-run report and ``evaluate`` show it.
Where the training period holds no date of a (month, hour) pair, the plain
training mean stands in for that valid time.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from anemoic.datasets.store import Store


def _sample_dates(store: Store, start: str, end: str, max_dates: int) -> list[int]:
    dates = store.dates
    inside = (dates >= np.datetime64(start, "s")) & (dates <= np.datetime64(end, "s"))
    missing = {np.datetime64(d, "s") for d in store.metadata.missing_dates}
    groups: dict[tuple[int, int], list[int]] = {}
    for i in np.flatnonzero(inside):
        if dates[i] not in missing:
            groups.setdefault(_key(dates[i]), []).append(int(i))
    per_key = max(1, max_dates // max(1, len(groups)))
    picked: list[int] = []
    for members in groups.values():
        if len(members) > per_key:
            members = [members[j] for j in np.linspace(0, len(members) - 1, per_key).round().astype(int)]
        picked.extend(members)
    return sorted(picked)


def _key(date: np.datetime64) -> tuple[int, int]:
    as_datetime = date.astype("datetime64[s]").astype(object)
    return as_datetime.month, as_datetime.hour


@dataclass(frozen=True)
class Climatology:
    by_month_hour: dict[tuple[int, int], np.ndarray]  # (month, hour) -> (G, V) mean
    overall: np.ndarray  # (G, V) training mean

    @classmethod
    def from_store(cls, store: Store, start: str, end: str, store_indices: list[int],
                   max_dates: int = 2400) -> "Climatology":
        """Means over the store dates in [start, end] (missing dates skipped), NaNs ignored.

        A decades-long 6-hourly store would mean reading every field of the training period, so at
        most ``max_dates`` dates are read, spread evenly over the years within each (month, hour).
        """
        sums: dict[tuple[int, int], np.ndarray] = {}
        counts: dict[tuple[int, int], np.ndarray] = {}
        lo, hi = min(store_indices), max(store_indices) + 1
        take = np.asarray(store_indices) - lo
        dates = store.dates
        for i in _sample_dates(store, start, end, max_dates):
            block = store.read(int(i), slice(lo, hi))[take]  # (V, E, G)
            with warnings.catch_warnings():  # all-NaN points (land in a sea field) stay NaN, silently
                warnings.simplefilter("ignore", RuntimeWarning)
                field = np.nanmean(block, axis=1).T.astype(np.float64)  # (G, V)
            valid = np.isfinite(field)
            key = _key(dates[i])
            sums[key] = sums.get(key, 0) + np.where(valid, field, 0.0)
            counts[key] = counts.get(key, 0) + valid
        if not sums:
            raise ValueError(f"no store dates between {start} and {end} to build a climatology from")
        total = sum(sums.values())
        total_count = sum(counts.values())
        with np.errstate(invalid="ignore", divide="ignore"):
            by_key = {k: sums[k] / counts[k] for k in sums}
            overall = total / total_count
        return cls(by_key, overall)

    def for_dates(self, dates: np.ndarray) -> np.ndarray:
        """``(N, G, V)`` float32 climatology for valid times ``dates`` (datetime64)."""
        return np.stack([self.by_month_hour.get(_key(d), self.overall) for d in np.asarray(dates)]).astype(np.float32)

    def beside(self, other: Climatology, points: np.ndarray) -> Climatology:
        """This grid's climatology followed by ``other``'s at its ``points`` (a stretched grid's outer dataset)."""
        def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.concatenate([a, b[points]], axis=0)

        keys = set(self.by_month_hour) | set(other.by_month_hour)
        return Climatology({k: join(self.by_month_hour.get(k, self.overall), other.by_month_hour.get(k, other.overall))
                            for k in keys}, join(self.overall, other.overall))
