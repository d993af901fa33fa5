"""MLflow tracking of a run: params, the plan file, its hash, metrics, plots, system metrics.

Built on Lightning's ``MLFlowLogger`` (metrics per step/epoch come from
``LightningModule.log``); this module adds what the logger does not: the plan
as artifact and tag, figures, and mlflow's system-metrics sampler.  Importing
mlflow costs seconds, so nothing here is imported when tracking is off.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.loggers import MLFlowLogger

from anemoic.plan.model import Plan, TrackingPlan
from anemoic.runtime.tracking.params import plan_params

log = logging.getLogger(__name__)


def resolve_uri(tracking: TrackingPlan, base_dir: Path) -> str:
    """A relative ``sqlite:///runs/mlflow.db`` is taken relative to ``base_dir`` and its folder created."""
    uri = tracking.uri
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix):].startswith("/"):
        database = (base_dir / uri[len(prefix):]).resolve()
        database.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(database)
    if uri.startswith(prefix):
        Path(uri[len(prefix):]).parent.mkdir(parents=True, exist_ok=True)
    return uri


def artifact_location(uri: str) -> str | None:
    """Beside a sqlite database (``runs/mlflow.db`` -> ``runs/mlartifacts``), not in ``./mlruns`` of
    whatever directory the run happened to start in; a server decides for itself."""
    prefix = "sqlite:///"
    if uri.startswith(prefix):
        return str(Path(uri[len(prefix):]).parent / "mlartifacts")
    return None


def build_logger(plan: Plan, base_dir: Path, run_id: str | None = None) -> MLFlowLogger | None:
    tracking = plan.outputs.tracking
    if not tracking.enabled:
        return None
    import mlflow  # noqa: F401  (configures its loggers on import: quieten them afterwards)

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # database creation and system-metrics chatter
    uri = resolve_uri(tracking, base_dir)
    return MLFlowLogger(experiment_name=tracking.experiment, run_name=tracking.run_name or plan.name,
                        tracking_uri=uri, run_id=run_id, artifact_location=artifact_location(uri))


class TrackingCallback(pl.Callback):
    """Logs what metrics alone do not: params, plan artifact and hash tag, figures, system metrics."""

    def __init__(self, logger: MLFlowLogger, plan: Plan, plan_path: Path, plan_hash: str) -> None:
        self.logger = logger
        self.plan = plan
        self.plan_path = plan_path
        self.plan_hash = plan_hash
        self._monitor: Any = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        client, run_id = self.logger.experiment, self.logger.run_id
        self.logger.log_hyperparams(plan_params(self.plan))
        client.set_tag(run_id, "plan_hash", self.plan_hash)
        client.set_tag(run_id, "plan_name", self.plan.name)
        client.log_artifact(run_id, str(self.plan_path), artifact_path="plan")
        if self.plan.outputs.tracking.system_metrics:
            self._start_system_metrics(run_id)

    def _start_system_metrics(self, run_id: str) -> None:
        try:
            from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

            self._monitor = SystemMetricsMonitor(run_id, sampling_interval=2.0, samples_before_logging=1)
            self._monitor.start()
        except Exception as exc:  # system metrics are a convenience: never fail a run over them
            log.warning("MLflow system metrics are off: %s", exc)
            self._monitor = None

    def log_figure(self, figure: Any, name: str) -> None:
        self.logger.experiment.log_figure(self.logger.run_id, figure, f"plots/{name}")

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero or trainer.sanity_checking:
            return
        self._log_validation_figures(pl_module, f"epoch-{trainer.current_epoch:03d}-step-{trainer.global_step:06d}")
        self._log_system_snapshot(trainer.global_step)

    def _log_system_snapshot(self, step: int) -> None:
        """One sample at every validation, so even a run shorter than mlflow's sampling interval has one."""
        import psutil
        import torch

        process = psutil.Process()
        metrics = {"system/process_rss_megabytes": process.memory_info().rss / 2**20,
                   "system/system_memory_usage_percentage": psutil.virtual_memory().percent,
                   "system/cpu_utilization_percentage": psutil.cpu_percent(interval=None)}
        if torch.cuda.is_available():
            metrics["system/gpu_max_memory_allocated_megabytes"] = torch.cuda.max_memory_allocated() / 2**20
        self.logger.log_metrics(metrics, step=step)

    def _log_validation_figures(self, pl_module: Any, tag: str) -> None:
        from anemoic.runtime.tracking.plots import error_by_lead, field_maps
        from anemoic.runtime.training.report import format_lead

        import matplotlib.pyplot as plt

        example = getattr(pl_module, "validation_example", None)
        if example is not None:
            names = self.plan.indices.output[:4]
            lat, lon, target, prediction = example
            figure = field_maps(lat, lon, target[:, : len(names)], prediction[:, : len(names)], names,
                                f"first validation sample, {format_lead(self.plan.task.timestep_s)}")
            self.log_figure(figure, f"fields-{tag}.png")
            plt.close(figure)
        scores = getattr(pl_module, "val_scores", None)
        if scores is not None and "model" in scores.weights:
            labels = [format_lead(self.plan.task.timestep_s * (r + 1)) for r in range(scores.leads)]
            figure = error_by_lead(scores.rmse("model").numpy(), self.plan.indices.output, labels,
                                   "validation RMSE by lead time")
            self.log_figure(figure, f"error-by-lead-{tag}.png")
            plt.close(figure)

    def log_report(self, text: str) -> None:
        """The end-of-run report as a text artifact."""
        self.logger.experiment.log_text(self.logger.run_id, text, "report.txt")

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._monitor is not None:
            self._monitor.finish()
            self._monitor = None
