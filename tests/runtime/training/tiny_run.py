"""A tiny real run for runtime tests: a synthetic store, a small plan, the CLI in a subprocess.

Sizes are chosen so a full ``exec`` (2 epochs x 8 steps, 17 validation samples)
takes a few seconds on 2 CPU cores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anemoic.plan.io import write_plan
from anemoic.plan.model import Plan, TrackingPlan
from anemoic.datasets.synth import write_synthetic_store
from tests.factories import make_plan

REPO = Path(__file__).resolve().parents[3]
TINY_DEFAULTS: dict[str, Any] = {
    "training.deterministic": True,
    "training.epochs": 2,
    "training.limit_batches_per_epoch": 8,
    "outputs.checkpoint_every_steps": 2,
    "outputs.checkpoint_every_minutes": None,
    "outputs.keep_last_checkpoints": 20,
    "model.channels": 16,
    "model.heads": 2,
    "model.layers": 1,
}


def write_tiny_store(directory: Path) -> Path:
    return write_synthetic_store(directory / "tiny.zarr", grid=(8, 16), end="2020-01-25T18:00")


def tiny_plan(store: Path, run_dir: Path, **overrides: Any) -> Plan:
    return make_plan(str(store), str(run_dir), **{**TINY_DEFAULTS, **overrides})


def write_tiny_plan(directory: Path, store: Path, name: str = "plan.json", run: str = "run", **overrides: Any) -> Path:
    path = directory / name
    write_plan(tiny_plan(store, directory / run, **overrides), path)
    return path


def runtime_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "anemoic.cli.anemoi_runtime", *args]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def exec_and_kill_after_a_new_checkpoint(plan: Path, run_dir: Path, cwd: Path, env: dict[str, str] | None = None,
                                         timeout: float = 90) -> int:
    """Start ``exec plan``, SIGKILL it as soon as it has saved a checkpoint it did not find; its exit code."""
    from anemoic.runtime.training.checkpoints import list_checkpoints

    before = set(list_checkpoints(run_dir / "checkpoints"))
    process = subprocess.Popen(runtime_command("exec", str(plan)), cwd=cwd, env=env or child_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if set(list_checkpoints(run_dir / "checkpoints")) - before:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def run_runtime(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(runtime_command(*args), cwd=cwd, env=child_env(), capture_output=True, text=True,
                          timeout=timeout)


@dataclass(frozen=True)
class TrainedRun:
    directory: Path
    store: Path
    plan: Path
    run_dir: Path
    stdout: str

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.directory / 'mlflow.db'}"


def exec_once(cache: list[TrainedRun], directory: Path, store: Path, plan: Path, run: str = "run") -> TrainedRun:
    """``exec`` ``plan`` (its run directory ``directory/run``) and keep the run in ``cache``, which session fixtures
    share: test modules import a fixture, and each import is its own fixture."""
    result = run_runtime("exec", str(plan), cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    cache.append(TrainedRun(directory, store, plan, directory / run, result.stdout))
    return cache[0]


_TRAINED: list[TrainedRun] = []


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """One short real training run shared by the tests that need a checkpoint (import this fixture)."""
    if _TRAINED:
        return _TRAINED[0]
    directory = tmp_path_factory.mktemp("trained")
    store = write_tiny_store(directory)
    tracking = TrackingPlan(enabled=True, uri=f"sqlite:///{directory / 'mlflow.db'}", experiment="tests",
                            run_name="tiny", system_metrics=True)
    plan = write_tiny_plan(directory, store, **{"training.epochs": 1, "training.limit_batches_per_epoch": 3,
                                                "training.ema_decay": 0.9, "outputs.tracking": tracking})
    return exec_once(_TRAINED, directory, store, plan)


_AUTOENCODERS: list[TrainedRun] = []


@pytest.fixture(scope="session")
def trained_autoencoder(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """One short real autoencoder run (import this fixture): its report, warm starts, predict and evaluate."""
    if _AUTOENCODERS:
        return _AUTOENCODERS[0]
    from anemoic.plan.model import TaskPlan

    directory = tmp_path_factory.mktemp("autoencoder")
    store = write_tiny_store(directory)
    tracking = TrackingPlan(enabled=True, uri=f"sqlite:///{directory / 'mlflow.db'}", experiment="tests",
                            run_name="autoencoder", system_metrics=False)
    plan = write_tiny_plan(directory, store, run="autoencoder", **{
        "task": TaskPlan(kind="autoencoder", timestep_s=6 * 3600), "loss.metrics": ("rmse", "mae"),
        "training.epochs": 1, "training.limit_batches_per_epoch": 3, "outputs.tracking": tracking})
    return exec_once(_AUTOENCODERS, directory, store, plan, run="autoencoder")
