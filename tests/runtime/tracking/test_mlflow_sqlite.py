"""A real run logs to a real MLflow sqlite store: params, plan artifact and hash tag, metrics, plots."""

from __future__ import annotations

from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import read_plan
from anemoic.runtime.tracking.params import MAX_VALUE_CHARS, plan_params
from tests.factories import make_plan
from tests.runtime.training.tiny_run import TrainedRun, trained_run  # noqa: F401


def _artifacts(client, run_id: str, path: str = "") -> list[str]:
    out = []
    for item in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return out


def test_exec_logs_params_plan_metrics_and_plots_to_sqlite(trained_run: TrainedRun) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=trained_run.tracking_uri)
    experiment = client.get_experiment_by_name("tests")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    assert run.data.tags["plan_hash"] == plan_hash(read_plan(trained_run.plan))
    assert run.data.params["training.batch_size"] == "1"
    assert run.data.params["model.processor"] == "graphtransformer"
    assert run.data.params["variables.2t.normaliser"] == "mean_std"
    history = client.get_metric_history(run.info.run_id, "train/loss_step")
    assert [m.step for m in history] == [0, 1, 2]
    assert "val/rmse/z_500/1" in run.data.metrics and "val/loss" in run.data.metrics
    assert run.data.metrics["system/process_rss_megabytes"] > 10
    artifacts = _artifacts(client, run.info.run_id)
    assert "plan/plan.json" in artifacts and "report.txt" in artifacts
    assert any(a.startswith("plots/fields-") and a.endswith(".png") for a in artifacts)
    assert any(a.startswith("plots/error-by-lead-") for a in artifacts)
    assert (trained_run.directory / "mlartifacts").is_dir()  # beside the database, not ./mlruns
    assert not (trained_run.directory / "mlruns").exists()


def test_plan_params_are_flat_short_strings() -> None:
    params = plan_params(make_plan())
    assert params["loss.scalers.variable.weights"].startswith("[1.0, 1.0")
    assert params["indices.output"] == '["z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp"]'
    assert "source_map" not in " ".join(params) and all(len(v) <= MAX_VALUE_CHARS for v in params.values())
