"""Two real DDP processes (gloo, CPU) train 2 steps and validate (17 samples: uneven shares 9 + 8):
identical weights, disjoint data shares, one report."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan, write_tiny_store


def test_two_gloo_ranks_end_identical_and_read_disjoint_samples(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store, **{"parallel.processes_per_node": 2, "parallel.data_parallel_size": 2,
                                               "training.batch_size": 2, "training.epochs": 1,
                                               "training.limit_batches_per_epoch": 2})
    result = run_runtime("exec", str(plan), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]

    ranks = [json.loads((tmp_path / "run" / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["global_step"] for r in ranks] == [2, 2]
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]
    seen = [set(r["samples"]) for r in ranks]
    assert all(len(r["samples"]) == 4 for r in ranks)  # 2 steps x batch 2 each
    assert not seen[0] & seen[1]
    assert "End of run test: validation RMSE on 17 samples" in result.stdout  # from rank 0 only, once
    assert result.stdout.count("End of run") == 1
    assert "sync_dist=True" not in result.stderr  # epoch-level metrics are reduced over both ranks
