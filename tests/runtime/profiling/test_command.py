"""``anemoi-runtime profile`` as a user runs it: a real synthetic store, the CLI in a subprocess, MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anemoic.plan.model import TrackingPlan
from anemoic.runtime.profiling.steps import PHASES
from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan, write_tiny_store


@pytest.fixture(scope="module")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    directory = tmp_path_factory.mktemp("profile")
    store = write_tiny_store(directory)
    tracking = TrackingPlan(enabled=True, uri="sqlite:///mlflow.db", experiment="profiles", run_name="tiny")
    plan = write_tiny_plan(directory, store, **{"outputs.tracking": tracking, "training.num_workers": 1})
    result = run_runtime("profile", str(plan), "--steps", "4", "--out", "prof", cwd=directory)
    assert result.returncode == 0, result.stderr[-3000:]
    return directory, result


def test_phases_add_up_to_the_measured_step(profiled) -> None:
    directory, _ = profiled
    data = json.loads((directory / "prof" / "profile.json").read_text())
    assert [m["mode"] for m in data["modes"]] == ["real", "synthetic"]
    for mode in data["modes"]:
        assert set(mode["phases"]) == set(PHASES) and mode["steps"] == 4
        total = sum(mode["phases"].values())
        assert abs(total - mode["step_s"]) <= 0.1 * mode["step_s"], (mode["mode"], total, mode["step_s"])
        for name in ("encoder", "processor", "decoder", "backward", "optimiser"):
            assert mode["phases"][name] > 0, name
    synthetic = data["modes"][1]["phases"]
    assert synthetic["data"] < data["modes"][0]["phases"]["data"]  # the reused batch costs nothing to read
    assert sum(data["parameters"].values()) > 0 and data["parameters"]["processor"] > 0
    assert data["peak_rss_bytes"] > 0


def test_report_names_the_bottleneck_and_writes_a_chrome_trace(profiled) -> None:
    directory, result = profiled
    report = (directory / "prof" / "profile.md").read_text()
    assert report in result.stdout
    assert "**Bottleneck:** " in report and "**Free data loading:** with free data loading" in report
    trace = json.loads((directory / "prof" / "trace.json").read_text())
    assert trace["traceEvents"]  # Chrome's trace format: chrome://tracing or https://ui.perfetto.dev
    assert not (directory / "prof" / "memory_snapshot.pickle").exists()  # a GPU-only file
    assert "![Time per step by phase](phases.png)" in report
    assert (directory / "prof" / "phases.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_profile_is_logged_to_mlflow_as_its_own_run(profiled) -> None:
    from mlflow.tracking import MlflowClient

    directory, result = profiled
    run_id = result.stdout.strip().splitlines()[-1].removeprefix("logged to MLflow: ")
    client = MlflowClient(tracking_uri=f"sqlite:///{directory / 'mlflow.db'}")
    run = client.get_run(run_id)
    assert run.info.run_name == "tiny-profile" and run.info.status == "FINISHED"
    assert run.data.metrics["profile/real/step_s"] > 0 and "profile/synthetic/processor_s" in run.data.metrics
    names = {a.path for a in client.list_artifacts(run_id, "profile")}
    assert {"profile/profile.md", "profile/profile.json", "profile/trace.json", "profile/phases.png"} <= names


def test_synthetic_data_only_reads_no_field(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store)
    for chunk in (store / "data").glob("[0-9]*"):  # the fields are gone: only metadata can be read
        chunk.unlink()
    result = run_runtime("profile", str(plan), "--steps", "2", "--synthetic-data", "--out", "prof", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "prof" / "profile.json").read_text())
    assert [m["mode"] for m in data["modes"]] == ["synthetic"] and "free_data_loading" not in data


def test_zero_steps_is_a_one_line_error(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store)
    result = run_runtime("profile", str(plan), "--steps", "0", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "error: --steps must be at least 1, not 0\n"


def test_two_processes_under_torchrun_time_the_gradient_all_reduce(tmp_path: Path) -> None:
    """Real gloo processes: communication is measured, the phases still add up, rank 0 alone reports."""
    import subprocess
    import sys

    from tests.runtime.training.tiny_run import child_env

    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store, **{"parallel.processes_per_node": 2, "parallel.data_parallel_size": 2})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "anemoic.cli.anemoi_runtime", "profile", str(plan), "--steps", "3", "--out", "prof"]
    result = subprocess.run(command, cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("# Profile of test") == 1
    data = json.loads((tmp_path / "prof" / "profile.json").read_text())
    assert data["processes"] == 2 and data["ranks"] == 2
    for mode in data["modes"]:
        assert mode["phases"]["communication"] > 0
        assert abs(sum(mode["phases"].values()) - mode["step_s"]) <= 0.1 * mode["step_s"]
    assert "2 processes, each with the model whole, all-reducing the gradients" in result.stdout
