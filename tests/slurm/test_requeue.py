"""Under a real SLURM: SIGUSR1 to a 2-rank training job requeues it, and the restart finishes exactly.

Also for a job whose 2 ranks form one model group (the model sharded over both, the batch kept sharded).

Two jobs from the same experiment (built in two directories) run side by side: one
uninterrupted, one that gets ``scancel --signal=USR1`` (what ``--signal=SIGUSR1@lead`` sends)
after its first checkpoint.  The signalled one must save, ``scontrol requeue`` itself, start
again (``Restarts=1``), resume from the checkpoint and end with the same weights on both ranks
as the uninterrupted job.  Slow (about 60 s here).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from anemoic.runtime.training.checkpoints import list_checkpoints
from tests.compiler.targets.project import shared_store
from tests.slurm.test_build_and_train import EXPERIMENT
from tests.slurm.test_job_ranks import wait_for_job

pytestmark = pytest.mark.slurm
STEPS = 24
LONGER = EXPERIMENT.replace("max_steps = 2; limit_batches = 2", f"max_steps = {STEPS}; limit_batches = {STEPS}") \
    .replace("tracking = off", 'tracking = off\noutputs {{ run_dir = "runs/train"; checkpoint_every = 4 steps }}')


SHARDED = LONGER.replace("gpus_per_model = 1;", "gpus_per_model = 2; shard = heads; keep_batch_sharded = true;")


def _build_and_submit(directory: Path, store: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str], experiment: str = LONGER) -> str:
    directory.mkdir()
    (directory / "train.anm").write_text(experiment.format(store=store, venv=Path(sys.prefix)))
    monkeypatch.chdir(directory)
    assert main(["build", "train.anm", "--target", "slurm"]) == 0, capsys.readouterr().out
    submitted = subprocess.run(["sbatch", "--parsable", "build/train/job.sbatch"], capture_output=True, text=True,
                               timeout=30)
    assert submitted.returncode == 0, submitted.stderr
    return submitted.stdout.strip().split(";")[0]


def _signal_after_first_checkpoint(job_id: str, checkpoints: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not list_checkpoints(checkpoints):
        if time.monotonic() > deadline:
            subprocess.run(["scancel", job_id], capture_output=True, timeout=10)
            pytest.fail(f"job {job_id} wrote no checkpoint within {timeout_s:.0f} s")
        time.sleep(0.1)
    signalled = subprocess.run(["scancel", "--signal=USR1", job_id], capture_output=True, text=True, timeout=10)
    assert signalled.returncode == 0, signalled.stderr


def _ranks(run_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((run_dir / "ranks").glob("rank-*.json"))]


@pytest.mark.parametrize("experiment", [LONGER, SHARDED], ids=["data_parallel", "model_group"])
def test_sigusr1_requeues_and_the_restart_matches_an_uninterrupted_job(
        slurm_cluster: None, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], experiment: str) -> None:
    if not (Path(sys.prefix) / "bin" / "anemoi-runtime").exists():
        pytest.skip("anemoi-runtime is not installed in this virtual environment")
    assert "gpus_per_model = 1;" in LONGER and SHARDED != LONGER
    store = shared_store(tmp_path_factory)
    plain = _build_and_submit(tmp_path / "plain", store, monkeypatch, capsys, experiment)
    signalled = _build_and_submit(tmp_path / "signalled", store, monkeypatch, capsys, experiment)

    _signal_after_first_checkpoint(signalled, tmp_path / "signalled/runs/train/checkpoints", timeout_s=90)
    plain_state = wait_for_job(plain, timeout_s=150)
    state = wait_for_job(signalled, timeout_s=150)
    log = (tmp_path / f"signalled/build/train/slurm-{signalled}.out").read_text()
    assert "JobState=COMPLETED" in plain_state and "ExitCode=0:0" in plain_state, plain_state
    assert "JobState=COMPLETED" in state and "ExitCode=0:0" in state, f"{state}\n{log[-4000:]}"
    assert re.search(r"\bRestarts=1\b", state), state

    stopped = re.search(r"SIGUSR1: saved (\S+) at step (\d+); requeueing SLURM job " + signalled, log)
    assert stopped, log[-4000:]
    assert 4 <= int(stopped.group(2)) < STEPS
    assert "note: continuing the requeued run in runs/train" in log
    assert f"resuming {stopped.group(1)} (step {stopped.group(2)}," in log
    assert log.count("End of run train") == 1  # the first start stopped before its report

    expected, actual = _ranks(tmp_path / "plain/runs/train"), _ranks(tmp_path / "signalled/runs/train")
    assert [(r["global_rank"], r["world_size"], r["global_step"]) for r in actual] == [(0, 2, STEPS), (1, 2, STEPS)]
    assert {r["weights_sha256"] for r in actual} == {expected[0]["weights_sha256"]}
    assert expected[0]["weights_sha256"] == expected[1]["weights_sha256"]
    if experiment is SHARDED:  # one model group: each rank read and kept its half of the grid
        job = (tmp_path / "signalled/build/train/job.sbatch").read_text()
        assert "srun --kill-on-bad-exit=1 --distribution=block" in job and "model group(s) of 2 ranks" in job
        grid = actual[0]["read_grid"][1] + (actual[1]["read_grid"][1] - actual[1]["read_grid"][0])
        assert actual[0]["read_grid"][0] == 0 and actual[1]["read_grid"] == [actual[0]["read_grid"][1], grid]
