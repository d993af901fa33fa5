"""Under a real SLURM: srun starting another number of tasks than a sharded plan's layout is refused by
every task before anything is built, in one line that names the numbers (no traceback, no hang)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anemoic.plan.io import write_plan
from tests.factories import make_plan
from tests.runtime.training.tiny_run import child_env, write_tiny_store

pytestmark = pytest.mark.slurm


def test_srun_with_tasks_the_model_groups_cannot_use_is_refused(slurm_cluster: None, tmp_path: Path) -> None:
    runtime = Path(sys.prefix) / "bin" / "anemoi-runtime"
    if not runtime.exists():
        pytest.skip("anemoi-runtime is not installed in this virtual environment")
    store = write_tiny_store(tmp_path)
    plan = tmp_path / "plan.json"
    write_plan(make_plan(str(store), str(tmp_path / "run"), **{
        "parallel.processes_per_node": 2, "parallel.gpus_per_model": 2, "parallel.accelerator": "cpu",
        "model.channels": 16, "model.heads": 2}), plan)
    result = subprocess.run(["srun", "--ntasks=3", "--cpus-per-task=1", "--job-name=layout", str(runtime), "exec",
                             str(plan)], cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=180)
    assert result.returncode != 0
    message = ("error: 3 processes were started, but the plan's layout is 1 node(s) x 2 = 2 (model groups of 2); "
               "start 2 tasks (srun --ntasks-per-node) or rebuild the plan for this allocation")
    assert result.stderr.count(message) == 3, result.stderr[-3000:]  # each task says it, once
    assert "Traceback" not in result.stderr and not (tmp_path / "run" / "checkpoints").exists()
