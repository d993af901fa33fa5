"""Valid windows, the per-rank sampler and grid shards."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.runtime.data.sampling import ShardedWindowSampler, grid_shard, step_in_dates, window_starts
from anemoic.datasets.store import StoreError, open_store


def test_windows_skip_missing_dates_and_stay_inside_the_range(small_store: Path) -> None:
    store = open_store(small_store)
    missing = store.date_index("2020-01-10T06:00")
    step = step_in_dates(store, 12 * 3600)
    starts = window_starts(store, "2020-01-01T00:00:00", "2020-01-20T18:00:00", step, 3)
    last = store.date_index("2020-01-20T18:00")
    for s in starts:
        window = [s + k * step for k in range(3)]
        assert missing not in window and window[-1] <= last
    # every window that avoids the gap is there
    expected = [s for s in range(last - 4 + 1) if missing not in (s, s + 2, s + 4)]
    assert starts.tolist() == expected


def test_timestep_must_be_a_multiple_of_the_frequency(small_store: Path) -> None:
    with pytest.raises(StoreError, match="timestep 9h is not a multiple of the store frequency 6h"):
        step_in_dates(open_store(small_store), 9 * 3600)


def test_sampler_is_deterministic_and_gives_ranks_disjoint_equal_shares() -> None:
    shares = [list(ShardedWindowSampler(50, dp_rank=r, dp_size=3, seed=7)) for r in range(3)]
    assert [len(s) for s in shares] == [16, 16, 16]
    assert len(set().union(*map(set, shares))) == 48
    again = ShardedWindowSampler(50, dp_rank=1, dp_size=3, seed=7)
    assert list(again) == shares[1]
    again.set_epoch(1)
    assert list(again) != shares[1]
    again.skip = 10
    assert len(again) == 6 and list(again) == again.order()[10:]
    validation = [list(ShardedWindowSampler(5, dp_rank=r, dp_size=2, shuffle=False)) for r in range(2)]
    assert validation == [[0, 2, 4], [1, 3]]


def test_grid_shards_tile_the_grid() -> None:
    shards = [grid_shard(10, i, 3) for i in range(3)]
    assert [(s.start, s.stop) for s in shards] == [(0, 3), (3, 7), (7, 10)]
