"""A profile as its own MLflow run beside the plan's training runs: the numbers as metrics, the report,
its JSON and the trace as artifacts (a profile is not a training run, so it never joins one)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from anemoic.plan.model import Plan
from anemoic.runtime.tracking.mlflow_tracking import artifact_location, resolve_uri


def log_profile(plan: Plan, profile: Any, out_dir: Path, base_dir: Path) -> str:
    """Log ``profile`` (a ``runtime.profiling.report.Profile``) and the files in ``out_dir``; the run id."""
    import mlflow
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    tracking = plan.outputs.tracking
    uri = resolve_uri(tracking, base_dir)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(tracking.experiment)
    experiment_id = experiment.experiment_id if experiment is not None else \
        client.create_experiment(tracking.experiment, artifact_location=artifact_location(uri))
    run = client.create_run(experiment_id, run_name=f"{tracking.run_name or plan.name}-profile",
                            tags={"plan_hash": profile.plan_hash, "anemoic.kind": "profile"})
    run_id = run.info.run_id
    metrics = []
    timestamp = int(run.info.start_time)
    for mode in profile.modes:
        values = {f"profile/{mode.mode}/{name}_s": seconds for name, seconds in mode.phases.items()}
        values[f"profile/{mode.mode}/step_s"] = mode.step_s
        values[f"profile/{mode.mode}/samples_per_s"] = mode.samples_per_s
        if mode.peak_gpu_bytes is not None:
            values[f"profile/{mode.mode}/peak_gpu_megabytes"] = mode.peak_gpu_bytes / 2**20
        metrics += [mlflow.entities.Metric(key, float(value), timestamp, 0) for key, value in values.items()]
    metrics.append(mlflow.entities.Metric("profile/peak_rss_megabytes", profile.peak_rss_bytes / 2**20, timestamp, 0))
    client.log_batch(run_id, metrics=metrics)
    for name in profile.files:
        if (out_dir / name).is_file():
            client.log_artifact(run_id, str(out_dir / name), artifact_path="profile")
    client.set_terminated(run_id)
    return run_id
