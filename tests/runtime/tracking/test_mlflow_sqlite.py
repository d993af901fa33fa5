"""A real run logs to a real MLflow sqlite store: params, plan artifact and hash tag, metrics, plots."""

from __future__ import annotations

from pathlib import Path

from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import read_plan
from anemoic.plan.model import TrackingPlan
from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan, write_tiny_store


def _artifacts(client, run_id: str, path: str = "") -> list[str]:
    out = []
    for item in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return out


def test_exec_logs_params_plan_metrics_and_plots_to_sqlite(tmp_path: Path) -> None:
    import mlflow

    store = write_tiny_store(tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracking = TrackingPlan(enabled=True, uri=uri, experiment="tests", run_name="tiny", system_metrics=True)
    plan_path = write_tiny_plan(tmp_path, store, **{"outputs.tracking": tracking, "training.epochs": 1,
                                                     "training.limit_batches_per_epoch": 3})
    result = run_runtime("exec", str(plan_path), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]

    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("tests")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    assert run.data.tags["plan_hash"] == plan_hash(read_plan(plan_path))
    assert run.data.params["training.batch_size"] == "1"
    assert run.data.params["model.processor"] == "graphtransformer"
    assert run.data.params["variables.2t.normaliser"] == "mean_std"
    history = client.get_metric_history(run.info.run_id, "train/loss_step")
    assert [m.step for m in history] == [0, 1, 2]
    assert "val/rmse/z_500/1" in run.data.metrics and "val/loss" in run.data.metrics
    artifacts = _artifacts(client, run.info.run_id)
    assert "plan/plan.json" in artifacts and "report.txt" in artifacts
    assert any(a.startswith("plots/fields-") and a.endswith(".png") for a in artifacts)
    assert any(a.startswith("plots/error-by-lead-") for a in artifacts)
