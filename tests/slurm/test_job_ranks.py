"""The job script from our template, submitted to a real SLURM: 2 tasks see the right ranks in Lightning."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anemoic.compiler.targets.layout import plan_paths
from anemoic.compiler.targets.slurm import render_sbatch
from anemoic.plan.io import write_plan, write_text_atomic
from anemoic.plan.model import SweepMemberPlan
from tests.factories import make_plan

pytestmark = pytest.mark.slurm
PRINT_RANKS = Path(__file__).with_name("print_ranks.py").resolve()
VENV = Path(sys.prefix)  # the test's own virtual environment, activated by the job script


def wait_for_job(job_id: str, timeout_s: float) -> str:
    """Poll until the job leaves the queue (``sbatch --wait`` polls too slowly); returns ``scontrol show job``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        queued = subprocess.run(["squeue", "-h", "-j", job_id], capture_output=True, text=True, timeout=10)
        if not queued.stdout.strip():
            break
        time.sleep(0.5)
    else:
        subprocess.run(["scancel", job_id], capture_output=True, timeout=10)
        pytest.fail(f"SLURM job {job_id} did not finish within {timeout_s:.0f} s")
    return subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True, timeout=10).stdout


@pytest.mark.skipif(not (VENV / "bin" / "activate").exists(), reason="tests must run inside a virtual environment")
def test_two_tasks_get_ranks_world_size_and_master_addr(slurm_cluster: None, tmp_path: Path) -> None:
    plan = make_plan(**{
        "parallel.nodes": 1, "parallel.processes_per_node": 2, "parallel.data_parallel_size": 2,
        "parallel.accelerator": "cpu",  # CPU site: one task per device, no GPU gres
        "site.cpus_per_task": 1, "site.time_limit_s": 300, "site.signal_lead_s": 60,
        "site.venv": str(VENV),
    })
    out_dir = tmp_path / "build"
    digest = write_plan(plan, out_dir / "plan.json")
    script = out_dir / "job.sbatch"
    text = render_sbatch([plan], source="test.anm", out_dir=out_dir, workdir=tmp_path, hashes=[digest],
                         program=f"python -u {PRINT_RANKS}")
    write_text_atomic(script, text, mode=0o755)
    assert "--gpus-per-node" not in text and "#SBATCH --ntasks-per-node=2" in text

    submitted = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True, timeout=30)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip().split(";")[0]
    state = wait_for_job(job_id, timeout_s=150)
    log = out_dir / f"slurm-{job_id}.out"
    log_text = log.read_text() if log.exists() else "(no log)"
    assert "JobState=COMPLETED" in state and "ExitCode=0:0" in state, f"{state}\n{log_text}"

    reports = sorted((json.loads(line) for line in log_text.splitlines() if line.startswith("{")),
                     key=lambda r: r["global_rank"])
    assert [(r["global_rank"], r["local_rank"], r["world_size"], r["node_rank"]) for r in reports] == [
        (0, 0, 2, 0), (1, 1, 2, 0)], log_text
    host = socket.gethostname().split(".")[0]
    assert {r["master_addr"] for r in reports} == {host}
    assert {r["master_port"] for r in reports} == {15000 + int(job_id[-4:])}
    assert all(r["detected"] for r in reports)
    assert {r["omp_num_threads"] for r in reports} == {"1"}
    assert {r["cwd"] for r in reports} == {str(tmp_path)}
    assert {r["plan_hash"] for r in reports} == {digest}


def test_sweep_job_array_runs_each_member_on_its_own_plan(slurm_cluster: None, tmp_path: Path) -> None:
    plans = [make_plan(**{"parallel.accelerator": "cpu", "site.cpus_per_task": 1, "site.mem": None,
                          "site.venv": str(VENV), "training.optimiser.lr": lr,
                          "sweep": SweepMemberPlan("lr", index, 2, {"lr": lr})})
             for index, lr in enumerate((1e-3, 3e-4))]
    out_dir = tmp_path / "sweep"
    hashes = [write_plan(plan, path) for plan, path in zip(plans, plan_paths(out_dir, 2))]
    script = out_dir / "job.sbatch"
    write_text_atomic(script, render_sbatch(plans, source="sweep.anm", out_dir=out_dir, workdir=tmp_path,
                                            hashes=hashes, program=f"python -u {PRINT_RANKS} --plan-only"))
    submitted = subprocess.run(["sbatch", "--parsable", str(script)], capture_output=True, text=True, timeout=30)
    assert submitted.returncode == 0, submitted.stderr
    array_id = submitted.stdout.strip().split(";")[0]
    wait_for_job(array_id, timeout_s=120)
    seen = {}
    for index in range(2):
        log = out_dir / f"slurm-{array_id}_{index}.out"
        assert log.exists(), sorted(p.name for p in out_dir.iterdir())
        report = json.loads(next(line for line in log.read_text().splitlines() if line.startswith("{")))
        seen[report["array_task"]] = (report["member"], report["plan_hash"])
    assert seen == {"0": (0, hashes[0]), "1": (1, hashes[1])}
