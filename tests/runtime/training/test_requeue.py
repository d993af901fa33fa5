"""SIGUSR1 mid-training: checkpoint at a step boundary, requeue command called once, exit 0, resume exactly.

No SLURM here: ``SLURM_JOB_ID`` names a job and ``ANEMOIC_REQUEUE_COMMAND`` points the runtime at a
small script that records its arguments (the real ``scontrol requeue`` is exercised in tests/slurm).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import torch

from anemoic.runtime.training.checkpoints import list_checkpoints, load_checkpoint
from anemoic.runtime.training.requeue import MARKER_NAME, install_requeue_flag, requeue_command, \
    requeue_message, requeued_checkpoint
from tests.golden import assert_golden
from tests.runtime.training.test_kill_resume import FINAL_STEP, _final_weights
from tests.runtime.training.tiny_run import child_env, run_runtime, runtime_command, write_tiny_plan, \
    write_tiny_store

GOLDEN = Path(__file__).with_name("golden")
JOB_ID = "4242"


def _job_env(recorder: Path) -> dict[str, str]:
    env = {k: v for k, v in child_env().items() if not k.startswith("SLURM_")}
    return {**env, "SLURM_JOB_ID": JOB_ID, "ANEMOIC_REQUEUE_COMMAND": f"{recorder} requeue"}


def _recorder(directory: Path) -> Path:
    script = directory / "record-requeue.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {directory / "requeue-calls.txt"}\n')
    script.chmod(0o755)
    return script


def _signal_after_first_checkpoint(plan: Path, run_dir: Path, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = subprocess.Popen(runtime_command("exec", str(plan)), cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if list_checkpoints(run_dir / "checkpoints"):
                process.send_signal(signal.SIGUSR1)
                break
            time.sleep(0.01)
        output, _ = process.communicate(timeout=90)
        return process.returncode, output
    finally:
        if process.poll() is None:
            process.kill()


def test_sigusr1_checkpoints_requeues_once_exits_0_and_resumes_exactly(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan_a = write_tiny_plan(tmp_path, store, "a.json", run="run-a", **{"training.ema_decay": 0.9})
    plan_b = write_tiny_plan(tmp_path, store, "b.json", run="run-b", **{"training.ema_decay": 0.9})
    env = _job_env(_recorder(tmp_path))
    run_b = tmp_path / "run-b"

    uninterrupted = run_runtime("exec", str(plan_a), cwd=tmp_path)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]

    code, output = _signal_after_first_checkpoint(plan_b, run_b, tmp_path, env)
    assert code == 0, output[-3000:]
    stopped = re.search(r"SIGUSR1: saved (\S+) at step (\d+); requeueing SLURM job 4242", output)
    assert stopped, output[-3000:]
    step = int(stopped.group(2))
    assert 0 < step < FINAL_STEP
    assert list_checkpoints(run_b / "checkpoints")[-1] == Path(stopped.group(1))  # the last state is the stop
    assert load_checkpoint(stopped.group(1))["global_step"] == step
    assert "End of run" not in output  # stopped before the end-of-run report
    assert (tmp_path / "requeue-calls.txt").read_text() == f"requeue {JOB_ID}\n"
    assert json.loads((run_b / "checkpoints" / MARKER_NAME).read_text())["job_id"] == JOB_ID

    resumed = subprocess.run(runtime_command("exec", str(plan_b)), cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"continuing the requeued run in {run_b}" in resumed.stdout
    assert f"resuming {stopped.group(1)} (step {step}," in resumed.stdout
    assert (tmp_path / "requeue-calls.txt").read_text() == f"requeue {JOB_ID}\n"  # called once in all
    assert not (run_b / "checkpoints" / MARKER_NAME).exists()  # the run is complete: a new exec starts fresh

    expected, actual = _final_weights(tmp_path / "run-a"), _final_weights(run_b)
    assert expected.keys() == actual.keys()
    for name in expected:
        a, b = expected[name], actual[name]
        if a.is_floating_point():
            assert torch.equal(a.isnan(), b.isnan()), name
            a, b = a.nan_to_num(), b.nan_to_num()
        assert torch.equal(a, b), name


def test_requeued_checkpoint_needs_the_marker_of_the_same_plan_or_a_slurm_restart(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    assert requeued_checkpoint(tmp_path, "abc") is None  # nothing to continue
    (folder / "step-00000004.ckpt").write_bytes(b"")
    assert requeued_checkpoint(tmp_path, "abc") is None  # checkpoints of an earlier run: a fresh run
    (folder / MARKER_NAME).write_text(json.dumps({"plan_hash": "other", "job_id": "1", "checkpoint": "x"}))
    assert requeued_checkpoint(tmp_path, "abc") is None  # requeued under another plan
    (folder / MARKER_NAME).write_text(json.dumps({"plan_hash": "abc", "job_id": "1", "checkpoint": "x"}))
    assert requeued_checkpoint(tmp_path, "abc") == folder / "step-00000004.ckpt"


def test_requeue_command_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("ANEMOIC_REQUEUE_COMMAND", raising=False)
    assert requeue_command("17") == ["scontrol", "requeue", "17"]
    monkeypatch.setenv("ANEMOIC_REQUEUE_COMMAND", "'/opt/my tool' requeue")
    assert requeue_command("17_3") == ["/opt/my tool", "requeue", "17_3"]


def test_requeue_messages_golden() -> None:
    checkpoint = Path("runs/exp/checkpoints/step-00000012.ckpt")
    text = "\n".join([requeue_message(12, checkpoint, "1234", None),
                      requeue_message(12, checkpoint, "1234", "scontrol requeue 1234 exited with 1: "
                                                              "Invalid job id specified")]) + "\n"
    assert_golden(text, GOLDEN / "requeue_messages.txt")


def test_sigusr1_outside_a_slurm_job_is_not_caught(monkeypatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    assert install_requeue_flag() is None


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_gloo_ranks_stop_together_when_only_rank_1_gets_the_signal(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store, **{"parallel.processes_per_node": 2, "parallel.data_parallel_size": 2})
    env = _job_env(_recorder(tmp_path))
    run_dir = tmp_path / "run"
    process = subprocess.Popen(runtime_command("exec", str(plan)), cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if list_checkpoints(run_dir / "checkpoints"):
                (rank_1,) = _children(process.pid)  # Lightning's launcher started rank 1 as a child
                os.kill(rank_1, signal.SIGUSR1)
                break
            time.sleep(0.01)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output[-3000:]
    stopped = re.search(r"SIGUSR1: saved \S+ at step (\d+); requeueing SLURM job 4242", output)  # said by rank 0
    assert stopped, output[-3000:]
    ranks = [json.loads((run_dir / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["global_step"] for r in ranks] == [int(stopped.group(1))] * 2  # both stopped at that step
    assert (tmp_path / "requeue-calls.txt").read_text() == f"requeue {JOB_ID}\n"

    resumed = subprocess.run(runtime_command("exec", str(plan)), cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "continuing the requeued run" in resumed.stdout
    ranks = [json.loads((run_dir / "ranks" / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["global_step"] for r in ranks] == [FINAL_STEP] * 2
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]
