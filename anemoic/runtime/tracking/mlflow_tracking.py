"""MLflow tracking of a run: params, the plan file, its hash, metrics, plots, system metrics.

Built on Lightning's ``MLFlowLogger`` (metrics per step/epoch come from
``LightningModule.log``); this module adds what the logger does not: the plan
as artifact and tag, figures, and mlflow's system-metrics sampler.  A resumed
or requeued run continues the MLflow run recorded beside its checkpoints
(``continuation``), so one training run is one MLflow run.  Importing mlflow
costs seconds, so nothing here is imported when tracking is off.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.loggers import MLFlowLogger

from anemoic.plan.model import Plan, TrackingPlan
from anemoic.plan.units import format_duration
from anemoic.runtime.tracking.continuation import TrackingRecord, continued_run, write_record
from anemoic.runtime.tracking.params import plan_params

log = logging.getLogger(__name__)
LIGHTNING_PARAM_CHARS = 250  # MLFlowLogger.log_hyperparams cuts every value to this length
CHANGED_PARAM_TAG = "changed_on_resume."


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


class RunLogger(MLFlowLogger):
    """``MLFlowLogger`` whose end status a callback may choose: a requeued attempt ends SCHEDULED (the
    requeued job continues it), not FINISHED (``TrackingCallback.requeued``)."""

    end_status: str | None = None

    def finalize(self, status: str = "success") -> None:
        super().finalize(self.end_status if status == "success" and self.end_status else status)


def build_logger(plan: Plan, base_dir: Path, run_id: str | None = None) -> RunLogger | None:
    tracking = plan.outputs.tracking
    if not tracking.enabled:
        return None
    import mlflow  # noqa: F401  (configures its loggers on import: quieten them afterwards)

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # database creation and system-metrics chatter
    uri = resolve_uri(tracking, base_dir)
    return RunLogger(experiment_name=tracking.experiment, run_name=tracking.run_name or plan.name,
                     tracking_uri=uri, run_id=run_id, artifact_location=artifact_location(uri))


def start_tracking(plan: Plan, plan_path: Path, plan_hash: str, base_dir: Path, record_dir: Path,
                   resumed_from: Path | None = None) -> tuple[RunLogger | None, TrackingCallback | None]:
    """Logger and callback of a run; ``resumed_from`` (the checkpoint folder of an exact resume, on the
    first process only) continues the MLflow run recorded there, or prints one note and opens a new one.
    ``record_dir`` (``RUN_DIR/checkpoints``) receives the record of the run this process tracks to."""
    if not plan.outputs.tracking.enabled:
        return None, None
    tracking, run_id = plan.outputs.tracking, None
    uri = resolve_uri(tracking, base_dir)
    if resumed_from is not None:
        import mlflow  # noqa: F401  (configures its loggers on import: quieten them before the lookup)

        logging.getLogger("mlflow").setLevel(logging.WARNING)
        run_id, note = continued_run(resumed_from, uri, tracking.experiment)
        if note is not None:
            print(note, flush=True)
    logger = build_logger(plan, base_dir, run_id=run_id)
    assert logger is not None
    record = (record_dir, uri)
    return logger, TrackingCallback(logger, plan, plan_path, plan_hash, record=record, continued=run_id is not None)


def split_params(wanted: dict[str, str], logged: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``(new, changed)`` params of a continued run: MLflow refuses a second, different value for a
    param, so unchanged ones are skipped, new ones logged, and changed ones kept as tags instead."""
    new, changed = {}, {}
    for key, value in wanted.items():
        if key not in logged:
            new[key] = value
        elif logged[key] != value[:LIGHTNING_PARAM_CHARS]:
            changed[key] = value
    return new, changed


class TrackingCallback(pl.Callback):
    """Logs what metrics alone do not: params, plan artifact and hash tag, figures, system metrics."""

    def __init__(self, logger: RunLogger, plan: Plan, plan_path: Path, plan_hash: str,
                 record: tuple[Path, str] | None = None, continued: bool = False) -> None:
        """``record``: (folder, tracking URI) of the run record to write; ``continued``: an earlier
        attempt's run is reopened."""
        self.logger = logger
        self.plan = plan
        self.plan_path = plan_path
        self.plan_hash = plan_hash
        self.record = record
        self.continued = continued
        self._monitor: Any = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        client, run_id = self.logger.experiment, self.logger.run_id
        if self.record is not None:
            folder, uri = self.record
            write_record(folder, TrackingRecord(run_id, uri, self.plan.outputs.tracking.experiment))
        if self.continued:
            self._reopen(client, run_id)
        else:
            self.logger.log_hyperparams(plan_params(self.plan))
        client.set_tag(run_id, "plan_hash", self.plan_hash)
        client.set_tag(run_id, "plan_name", self.plan.name)
        client.log_artifact(run_id, str(self.plan_path), artifact_path="plan")
        if self.plan.outputs.tracking.system_metrics:
            self._start_system_metrics(run_id)

    def _reopen(self, client: Any, run_id: str) -> None:
        """Continue an earlier attempt's run: RUNNING again (it was left RUNNING by a kill, SCHEDULED by
        a requeue, FAILED or FINISHED), and only the params it does not hold yet."""
        run = client.get_run(run_id)
        if run.info.status != "RUNNING":
            client.update_run(run_id, status="RUNNING")
        new, changed = split_params(plan_params(self.plan), run.data.params)
        if new:
            self.logger.log_hyperparams(new)
        for key, value in changed.items():
            client.set_tag(run_id, CHANGED_PARAM_TAG + key, value)

    def _start_system_metrics(self, run_id: str) -> None:
        try:
            from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

            self._monitor = SystemMetricsMonitor(run_id, sampling_interval=2.0, samples_before_logging=1,
                                                 resume_logging=self.continued)
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
        import matplotlib.pyplot as plt

        from anemoic.runtime.tracking.plots import error_by_lead, field_maps

        timestep = self.plan.task.timestep_s
        leads = pl_module.task.has_lead_times  # an autoencoder's one reconstruction has none
        example = getattr(pl_module, "validation_example", None)
        if example is not None:
            names = self.plan.indices.output[:4]
            lat, lon, target, prediction = example
            first = timestep * pl_module.task.lead_offsets(1)[0]  # a forecaster's first lead, a downscaler's target
            when = f"+{format_duration(first)}" if leads else "reconstructed"
            figure = field_maps(lat, lon, target[:, : len(names)], prediction[:, : len(names)], names,
                                f"first validation sample, {when}")
            self.log_figure(figure, f"fields-{tag}.png")
            plt.close(figure)
        scores = getattr(pl_module, "val_scores", None)
        plotted = [m for m in scores.metrics if m != "rank_histogram"] if scores is not None else []
        if scores is not None and "model" in scores.weights and plotted and leads:  # one per (lead, variable)
            metric = plotted[0]
            labels = [f"+{format_duration(timestep * offset)}" for offset in pl_module.task.lead_offsets(scores.leads)]
            figure = error_by_lead(scores.score("model", metric).numpy(), self.plan.indices.output, labels,
                                   f"validation {metric.upper()} by lead time")
            self.log_figure(figure, f"error-by-lead-{tag}.png")
            plt.close(figure)

    def log_report(self, text: str) -> None:
        """The end-of-run report as a text artifact."""
        self.logger.experiment.log_text(self.logger.run_id, text, "report.txt")

    def requeued(self, failed: bool) -> None:
        """This attempt stops for a SLURM requeue (``RequeueOnSignal`` calls it, before Lightning finalizes
        the logger): the requeued job continues the run; after a failed requeue it waits for a manual
        --resume."""
        self.logger.end_status = "KILLED" if failed else "SCHEDULED"

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._monitor is not None:
            self._monitor.finish()
            self._monitor = None
