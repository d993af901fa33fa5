"""Logging to a real `mlflow server` over HTTP (127.0.0.1, a free port, one worker, killed after)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from anemoic.plan.model import TrackingPlan
from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan, write_tiny_store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # setsid: kill the whole group after
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_exec_logs_to_an_http_tracking_server(tmp_path: Path, mlflow_server: str) -> None:
    import mlflow

    store = write_tiny_store(tmp_path)
    tracking = TrackingPlan(enabled=True, uri=mlflow_server, experiment="over-http", system_metrics=False)
    plan_path = write_tiny_plan(tmp_path, store, **{"outputs.tracking": tracking, "training.epochs": 1,
                                                     "training.limit_batches_per_epoch": 2})
    result = run_runtime("exec", str(plan_path), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]

    client = mlflow.MlflowClient(tracking_uri=mlflow_server)
    (run,) = client.search_runs([client.get_experiment_by_name("over-http").experiment_id])
    assert "plan_hash" in run.data.tags
    assert [m.step for m in client.get_metric_history(run.info.run_id, "train/loss_step")] == [0, 1]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"plan", "plots", "report.txt"}
