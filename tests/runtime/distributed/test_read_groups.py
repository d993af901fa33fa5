"""Read groups: each rank reads only its grid slice of the store, and the group's slices make whole samples.

4 real gloo processes in one model group read through the real loader from a store chunked along the grid
(uncompressed, so a chunk's bytes on disk are its values). The bytes each rank reads are counted by the
kernel (``rchar``): with ``read_group = 4`` every rank reads a quarter of what reading the whole grid
takes, with ``read_group = 2`` a half (also with ``keep_batch_sharded``, where the group shares nothing);
what the read group shares equals the whole-grid read exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.io import write_plan
from tests.factories import make_plan
from tests.runtime.distributed.spawn import spawn


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("read-groups")
    # o16: 1,600 grid points in 4 chunks of 400, as the 4 ranks' quarters
    return write_synthetic_store(folder / "chunked.zarr", grid="o16", end="2020-01-25T18:00", grid_chunk=400,
                                 compressed=False)


CASES = [(4, False), (2, False), (4, True)]  # (read_group, keep_batch_sharded) in a model group of 4


def test_each_rank_reads_only_its_slice(store: Path, tmp_path: Path) -> None:
    plans = []
    for case, (read_group, kept) in enumerate(CASES):
        plan = make_plan(str(store), str(tmp_path / "run"), **{
            "parallel.processes_per_node": 4, "parallel.gpus_per_model": 4, "parallel.read_group_size": read_group,
            "parallel.keep_batch_sharded": kept, "dataset.grid_size": 1600})
        write_plan(plan, tmp_path / f"plan-{case}.json")
        plans.append(str(tmp_path / f"plan-{case}.json"))
    failures = spawn("tests.runtime.distributed.read_group_worker", 4, tmp_path / "out", {"plans": plans})
    assert not failures, "\n".join(failures)
    for case, (read_group, _) in enumerate(CASES):
        ranks = [json.loads((tmp_path / "out" / f"{case}-rank-{r}.json").read_text()) for r in range(4)]
        share = 1600 // read_group
        assert [r["read"] for r in ranks] == [[(r % read_group) * share, (r % read_group + 1) * share]
                                              for r in range(4)]
        for record in ranks:
            assert record["grid_points"] == share and record["assembled_equal"], record
            # 1/read_group of the whole read's bytes (16 dates x a chunk of 10 variables x 400 points x 4 bytes
            # per quarter), give or take the few hundred bytes of zarr's metadata
            assert abs(record["bytes"] - record["whole_bytes"] / read_group) < 0.002 * record["whole_bytes"], record
