"""One training run is one MLflow run: across a SLURM requeue, a SIGKILL and ``--resume``.

Real parts: the CLI in subprocesses, a real sqlite MLflow store, the requeue path of
tests/runtime/training/test_requeue.py (``SLURM_JOB_ID`` and a recording requeue command).
The run is interrupted twice: SIGUSR1 (requeue; the next plain ``exec`` continues it), then
SIGKILL of the continued attempt, then ``--resume``.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anemoic.plan.model import TrackingPlan
from tests.golden import assert_golden
from tests.runtime.training.test_requeue import _job_env, _recorder, _signal_after_first_checkpoint
from tests.runtime.training.tiny_run import exec_and_kill_after_a_new_checkpoint, run_runtime, write_tiny_plan, \
    write_tiny_store

GOLDEN = Path(__file__).with_name("golden")
FINAL_STEP = 16  # 2 epochs x 8 batches (tiny_run defaults)


@dataclass(frozen=True)
class Interrupted:
    directory: Path
    store: Path
    run_id: str
    statuses: tuple[str, ...]  # after the requeue, after the kill, at the end
    steps_before_resume: frozenset[int]
    resumed_stdout: str

    @property
    def resumed_at(self) -> int:
        found = re.search(r"resuming \S+ \(step (\d+),", self.resumed_stdout)
        assert found, self.resumed_stdout[-2000:]
        return int(found.group(1))

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.directory / 'mlflow.db'}"


def _tracked_plan(directory: Path, store: Path, name: str, run: str, **overrides: Any) -> Path:
    tracking = TrackingPlan(enabled=True, uri=f"sqlite:///{directory / 'mlflow.db'}", experiment="tests",
                            run_name="tiny", system_metrics=True)
    return write_tiny_plan(directory, store, name, run=run, **{"outputs.tracking": tracking, **overrides})


def _client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(uri)


def _record(run_dir: Path, folder: str = "checkpoints") -> dict[str, str]:
    return json.loads((run_dir / folder / "tracking.json").read_text())


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory: pytest.TempPathFactory) -> Interrupted:
    directory = tmp_path_factory.mktemp("interrupted")
    store = write_tiny_store(directory)
    plan = _tracked_plan(directory, store, "plan.json", "run")
    run_dir, env = directory / "run", _job_env(_recorder(directory))

    code, output = _signal_after_first_checkpoint(plan, run_dir, directory, env)
    assert code == 0 and "requeueing SLURM job" in output, output[-3000:]
    run_id = _record(run_dir)["run_id"]
    client = _client(f"sqlite:///{directory / 'mlflow.db'}")
    statuses = [client.get_run(run_id).info.status]

    assert exec_and_kill_after_a_new_checkpoint(plan, run_dir, directory, env) == -signal.SIGKILL
    statuses.append(client.get_run(run_id).info.status)
    steps = frozenset(m.step for m in client.get_metric_history(run_id, "train/loss_step"))

    resumed = run_runtime("exec", str(plan), "--resume", str(run_dir), cwd=directory)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    statuses.append(client.get_run(run_id).info.status)
    return Interrupted(directory, store, run_id, tuple(statuses), steps, resumed.stdout)


def test_requeue_kill_and_resume_make_one_mlflow_run_with_one_loss_curve(interrupted: Interrupted) -> None:
    client = _client(interrupted.uri)
    (run,) = client.search_runs([client.get_experiment_by_name("tests").experiment_id])
    assert run.info.run_id == interrupted.run_id == _record(interrupted.directory / "run")["run_id"]
    # SCHEDULED while requeued, RUNNING after the kill (continued by the requeued job), FINISHED at the end
    assert interrupted.statuses == ("SCHEDULED", "RUNNING", "FINISHED")
    assert "MLflow" not in interrupted.resumed_stdout  # continued silently: no note
    history = client.get_metric_history(run.info.run_id, "train/loss_step")
    steps = [m.step for m in history]
    # One curve over both epochs from all three attempts.  The only step that may lack a point is the one
    # whose batch ended in the checkpoint the kill followed: SIGKILL can land after Lightning's
    # on_train_batch_end saved it and before the step's metrics were logged.
    may_lack = {interrupted.resumed_at - 1} - interrupted.steps_before_resume
    assert set(range(FINAL_STEP)) - may_lack <= set(steps) <= set(range(FINAL_STEP))
    assert 0 in interrupted.steps_before_resume and max(interrupted.steps_before_resume) < interrupted.resumed_at
    # Steps trained after the last checkpoint of a killed attempt are trained (and logged) again: MLflow
    # keeps both points; the run's latest value is the last attempt's at the highest step.
    redone = [s for s in set(steps) if steps.count(s) > 1]
    assert all(s in interrupted.steps_before_resume for s in redone)
    last = max(history, key=lambda m: (m.step, m.timestamp))
    assert run.data.metrics["train/loss_step"] == last.value and last.step == FINAL_STEP - 1
    assert run.data.params["training.batch_size"] == "1" and "report.txt" in \
        [a.path for a in client.list_artifacts(run.info.run_id)]
    assert not [k for k in run.data.tags if k.startswith("changed_on_resume.")]


def test_a_warm_start_opens_a_new_run_and_the_archive_keeps_its_record(interrupted: Interrupted) -> None:
    directory = interrupted.directory
    shutil.copytree(directory / "run", directory / "run-warm")
    plan = _tracked_plan(directory, interrupted.store, "warm.json", "run-warm", **{"dataset.name": "renamed"})
    result = run_runtime("exec", str(plan), "--resume", str(directory / "run-warm"), "--max-steps", "2",
                         cwd=directory)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "warm-starting a new run" in result.stdout
    (archive,) = [p.name for p in (directory / "run-warm").iterdir() if p.name.startswith("checkpoints.before-")]
    assert _record(directory / "run-warm", archive)["run_id"] == interrupted.run_id
    new_id = _record(directory / "run-warm")["run_id"]
    client = _client(interrupted.uri)
    assert new_id != interrupted.run_id and client.get_run(new_id).info.status == "FINISHED"
    assert client.get_run(interrupted.run_id).info.status == "FINISHED"  # the earlier run is left as it was
    assert [m.step for m in client.get_metric_history(new_id, "train/loss_step")] == [0, 1]


def test_a_record_naming_an_unknown_run_gives_one_note_and_a_new_run(interrupted: Interrupted) -> None:
    directory = interrupted.directory
    shutil.copytree(directory / "run", directory / "run-unknown")
    record = directory / "run-unknown" / "checkpoints" / "tracking.json"
    record.write_text(json.dumps({**_record(directory / "run-unknown"), "run_id": "f" * 32}))
    plan = _tracked_plan(directory, interrupted.store, "unknown.json", "run-unknown")
    result = run_runtime("exec", str(plan), "--resume", str(directory / "run-unknown"), cwd=directory)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    notes = [line for line in result.stdout.splitlines() if "MLflow" in line]
    assert_golden("\n".join(notes).replace(str(directory), "<tmp>") + "\n", GOLDEN / "unknown_run_note.txt")
    new_id = json.loads(record.read_text())["run_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", new_id) and new_id not in ("f" * 32, interrupted.run_id)
    assert _client(interrupted.uri).get_run(new_id).info.status == "FINISHED"
