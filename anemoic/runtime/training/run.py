"""``anemoi-runtime exec plan.json``: train what the plan describes, then print the end-of-run report.

Order of events: read and verify the plan; seed; build store, graph, model,
loss and data (``build``); with ``--resume`` decide between exact resume,
warm start or refusal (``resume``); then either one forward/backward pass
(``--dry-run``) or ``Trainer.fit``; finally, on rank 0, score the model on the
validation samples next to persistence and climatology (``report``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ProgressBar

from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import read_plan_with_notes, write_text_atomic
from anemoic.plan.kinds import METRICS
from anemoic.plan.model import Plan
from anemoic.runtime.distributed.rank_summary import RankSummary
from anemoic.runtime.methods import Stream
from anemoic.runtime.distributed.strategy import layout_for
from anemoic.runtime.training.build import Components, TrainingData, build_components
from anemoic.runtime.training.checkpoint_callback import PeriodicCheckpoint
from anemoic.runtime.training.debug import build_guard, debug_subset
from anemoic.runtime.training.checkpoints import CHECKPOINT_DIR, AtomicCheckpointIO, \
    archive_previous_checkpoints, load_checkpoint, resolve_checkpoint
from anemoic.runtime.training.ema import ExponentialMovingAverage
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.evaluation import build_climatology, validation_scores
from anemoic.runtime.training.init import load_parts
from anemoic.runtime.training.lineage import make_lineage
from anemoic.runtime.training.module import ForecastModule
from anemoic.runtime.training.preflight import PreflightCheck
from anemoic.runtime.training.progress import progress_callback
from anemoic.runtime.training.report import ENSEMBLE_REPORT, format_reconstruction, format_report
from anemoic.runtime.training.scores import ScoreSums
from anemoic.runtime.training.requeue import RequeueOnSignal, SignalFlag, clear_marker, cluster_plugins, \
    install_requeue_flag, requeued_checkpoint, slurm_job_id
from anemoic.runtime.training.resume import ResumeDecision, decide_resume, warm_start

if TYPE_CHECKING:  # importing it loads Lightning's MLflow logger: only when tracking is on
    from anemoic.runtime.tracking.mlflow_tracking import TrackingCallback


def _quiet_lightning() -> None:
    """Lightning's banners (GPU available, LOCAL_RANK, tips) are noise in a scientist's terminal."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning.pytorch.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch.loggers.mlflow").setLevel(logging.ERROR)  # "creating experiment"
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # system-metrics monitor chatter
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*is smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*predict_dataloader.*")
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    # torch >= 2.11 under DDP on GPUs: DDP keeps the AccumulateGrad nodes alive by design; nothing to act on
    # val/loss and val/<metric>/* are summed over ranks (ScoreSums.reduce) before they are logged; Lightning cannot tell
    warnings.filterwarnings("ignore", message=rf".*self\.log\('val/(loss'|({'|'.join(METRICS)})/).*sync_dist=True.*")
    warnings.filterwarnings("ignore", message=".*AccumulateGrad node's stream does not match.*")


def _first_process() -> bool:
    """True in the process that starts a run (before Lightning launches ranks, or rank 0 under srun)."""
    return all(int(os.environ.get(name, "0")) == 0 for name in ("LOCAL_RANK", "NODE_RANK", "RANK", "SLURM_PROCID"))


def _say(message: str) -> None:
    if _first_process():
        print(message, flush=True)


def build_callbacks(plan: Plan, run_dir: Path, data: TrainingData, ema: ExponentialMovingAverage | None,
                    tracking: TrackingCallback | None, total_steps: int,
                    requeue_flag: SignalFlag | None = None, preflight: bool = False) -> list[pl.Callback]:
    outputs, training = plan.outputs, plan.training
    callbacks: list[pl.Callback] = [PreflightCheck(data.inner, _say)] if preflight else []
    if ema is not None:
        callbacks.append(ema)
    periodic = PeriodicCheckpoint(run_dir / CHECKPOINT_DIR, every_steps=outputs.checkpoint_every_steps,
                                  every_minutes=outputs.checkpoint_every_minutes,
                                  keep_last=outputs.keep_last_checkpoints)
    callbacks.append(periodic)
    job_id = slurm_job_id()
    if requeue_flag is not None and job_id is not None:  # after the periodic save, which it may reuse
        callbacks.append(RequeueOnSignal(requeue_flag, periodic, run_dir, plan_hash(plan), job_id,
                                         on_requeue=tracking.requeued if tracking is not None else None))
    if training.early_stopping_patience is not None:
        callbacks.append(EarlyStopping(monitor=training.early_stopping_metric,
                                       patience=training.early_stopping_patience, mode="min", check_finite=True,
                                       check_on_train_epoch_end=False))
    callbacks.append(progress_callback(training.batch_size, total_steps, plan.parallel.gpus_per_model))
    callbacks.append(RankSummary(run_dir / "ranks", lambda: data.train_loader, data.inner.read_slice))
    if tracking is not None:
        callbacks += [tracking, LearningRateMonitor(logging_interval="step")]
    return callbacks


def build_trainer(plan: Plan, callbacks: list[pl.Callback], logger: Any, max_steps: int | None,
                  debug: bool = False) -> pl.Trainer:
    training = plan.training
    layout = layout_for(plan.parallel)
    if layout.accelerator == "cpu" and training.precision == "16-mixed":
        raise RuntimeUserError("error: precision 16-mixed needs a GPU (float16 autocast is not supported on CPU); "
                               "use bf16-mixed or 32 for a CPU run")
    steps = max_steps if max_steps is not None else training.max_steps
    max_time = {"seconds": training.time_limit_s} if training.time_limit_s else None
    return pl.Trainer(
        accelerator=layout.accelerator, devices=layout.devices, num_nodes=layout.num_nodes, strategy=layout.strategy,
        precision=training.precision, max_epochs=training.epochs, max_steps=steps if steps is not None else -1,
        max_time=max_time, gradient_clip_val=training.gradient_clip,
        gradient_clip_algorithm=training.gradient_clip_algorithm if training.gradient_clip else None,
        accumulate_grad_batches=training.accumulate_grad_batches,
        deterministic=training.deterministic or debug or None, detect_anomaly=debug,
        callbacks=callbacks, logger=logger if logger is not None else False, enable_checkpointing=False,
        plugins=[AtomicCheckpointIO(), *cluster_plugins()], use_distributed_sampler=False, num_sanity_val_steps=0,
        log_every_n_steps=1, enable_model_summary=False, default_root_dir=plan.outputs.run_dir,
        enable_progress_bar=any(isinstance(c, ProgressBar) for c in callbacks),
    )


def total_optimiser_steps(plan: Plan, train_samples: int, max_steps: int | None) -> int:
    """Steps the LR schedule spans, computed from sizes (Lightning's estimate would set up the
    train loader before a resumed run restores its position, losing the mid-epoch state)."""
    training = plan.training
    per_rank = train_samples // (layout_for(plan.parallel).world_size // max(plan.parallel.gpus_per_model, 1))
    batches = math.ceil(per_rank / training.batch_size)
    if training.limit_batches_per_epoch is not None:
        batches = min(batches, training.limit_batches_per_epoch)
    total = training.epochs * math.ceil(batches / training.accumulate_grad_batches)
    cap = max_steps if max_steps is not None else training.max_steps
    return max(1, min(total, cap) if cap is not None else total)


def _resume(resume: str | None, plan: Plan, plan_path: str) -> tuple[ResumeDecision | None, dict | None]:
    if resume is None:
        return None, None
    path = resolve_checkpoint(resume)
    checkpoint = load_checkpoint(path)
    decision = decide_resume(path, checkpoint, plan, plan_path)
    if decision.notes:
        _say(decision.notes.rstrip())
    action = "resuming" if decision.mode == "resume" else "warm-starting a new run from the weights of"
    _say(f"{action} {path} (step {checkpoint.get('global_step', 0)}, epoch {checkpoint.get('epoch', 0)})")
    return decision, checkpoint


def dry_run(module: ForecastModule, parts: Components, plan: Plan) -> int:
    """One real forward/backward pass on one training sample, then a summary."""
    started = time.perf_counter()
    sample = parts.data.dataset("train")[0].unsqueeze(0)
    loss = module.task.training_loss(module.bound_model(Stream.TRAIN, 0), module.loss, module.normalise(sample), 0,
                                     module.missing(sample))
    loss.backward()
    elapsed = time.perf_counter() - started
    graph = parts.graph
    edges = {"encoder": ("data", "to", "hidden"), "processor": ("hidden", "to", "hidden"),
             "decoder": ("hidden", "to", "data")}
    counts = ", ".join(f"{k} {graph[e].edge_index.shape[1]}" for k, e in edges.items())
    params = sum(p.numel() for p in module.model.parameters())
    method = plan.task.method
    members = f", an ensemble of {method.members} members" if method.kind == "ensemble" else ""
    _say(f"dry run of {plan.name} ok (plan {plan_hash(plan)[:12]})\n"
         f"  store    {plan.dataset.path}: {len(parts.data.train_starts)} training and "
         f"{len(parts.data.validation_starts)} validation samples, {grid_points(parts)}\n"
         f"  graph    data {graph['data'].num_nodes} nodes, hidden {graph['hidden'].num_nodes} nodes; edges {counts}\n"
         f"  model    {plan.model.processor}, {params:,} parameters{members}\n"
         f"  step     one forward/backward pass: loss {float(loss.detach()):.4g} in {elapsed:.2f} s")
    return 0


def grid_points(parts: Components) -> str:
    """The model's grid in words: a limited-area model's region and the boundary around it."""
    data, plan = parts.data, parts.plan
    if data.boundary is None:
        return f"{data.grid_size} grid points"
    boundary = len(data.boundary.grid.boundary_index)
    if not plan.boundary.forced:
        return (f"{data.grid_size} grid points: the region `{plan.dataset.name}` ({plan.dataset.grid_size}) and "
                f"{boundary} points of `{plan.boundary.dataset.name}` around it (a stretched grid: both forecast "
                "and scored)")
    return (f"{data.grid_size} grid points: the region `{plan.dataset.name}` ({plan.dataset.grid_size}, scored) and "
            f"{boundary} points of `{plan.boundary.dataset.name}` around it (forced from {plan.boundary.dataset.path})")


def scored_over(plan: Plan, boundary_points: int) -> str:
    """What a model on a cut-out grid is scored over, in one line (the report's and ``evaluate``'s words)."""
    assert plan.boundary is not None
    region, outer = plan.dataset.name, plan.boundary.dataset.name
    if not plan.boundary.forced:
        return (f"Scored over both datasets: the region `{region}` ({plan.dataset.grid_size} points) and `{outer}` "
                f"({boundary_points} points); nothing is forced (a stretched grid)")
    return (f"Scored over the region `{region}` ({plan.dataset.grid_size} points); the boundary ({boundary_points} "
            f"points of `{outer}`) is forced, not scored")


def final_report(module: ForecastModule, parts: Components, ema: ExponentialMovingAverage | None,
                 run_dir: Path) -> str:
    plan = module.plan
    ensemble = plan.task.method.members > 1
    metrics = ENSEMBLE_REPORT if ensemble else ("rmse",)
    per_dataset: dict[str, ScoreSums] = {}
    with ema.averaged_weights(module) if ema is not None else contextlib.nullcontext():
        scores = validation_scores(module, parts.data, build_climatology(parts.data), plan.training.batch_size,
                                   metrics=metrics, per_dataset=per_dataset)
    if not module.task.has_lead_times:  # an autoencoder
        text = format_reconstruction(scores, plan.indices.output, output_stdev(parts), title=(
            f"End of run {plan.name}: reconstruction of {scores.samples} validation states "
            f"({plan.dataset.validate.start} to {plan.dataset.validate.end})"))
        write_text_atomic(run_dir / "report.txt", text)
        return text
    what = "ensemble-mean RMSE" if ensemble else "RMSE"
    title = (f"End of run {plan.name}: validation {what} on {scores.samples} samples "
             f"({plan.dataset.validate.start} to {plan.dataset.validate.end})")
    shown = scores.leads if plan.task.kind == "temporal_downscaler" else min(2, scores.leads)  # every target
    leads, offsets = tuple(range(shown)), module.task.lead_offsets(scores.leads)
    text = format_report(scores, plan.indices.output, plan.task.timestep_s, title=title, leads=leads, offsets=offsets)
    if plan.boundary is not None:
        text += scored_over(plan, len(parts.data.boundary.grid.boundary_index)) + "\n" + \
            "".join(line + "\n" for line in parts.data.skipped_lines())
    for name, sums in per_dataset.items():  # a stretched grid: each dataset's scores on its own points
        text += "\n" + format_report(sums, plan.indices.output, plan.task.timestep_s, leads=leads, offsets=offsets,
                                     title=f"{what} over `{name}` alone")
    if ensemble:
        text += "\n" + format_report(scores, plan.indices.output, plan.task.timestep_s, leads=leads, metric="crps",
                                     title=f"The {plan.task.method.members}-member ensemble's CRPS on the same samples",
                                     offsets=offsets)
    write_text_atomic(run_dir / "report.txt", text)
    return text


def output_stdev(parts: Components) -> tuple[float, ...]:
    """Each output variable's standard deviation in the store's statistics (what a reconstruction is judged by)."""
    by_name = {v.name: v.store_index for v in parts.plan.variables}
    stdev = parts.data.store.statistics["stdev"]
    return tuple(float(stdev[by_name[name]]) for name in parts.plan.indices.output)


def exec_plan(plan_path: str, *, max_steps: int | None = None, dry_run_only: bool = False,
              resume: str | None = None, debug: bool = False, preflight: bool = True) -> int:
    """``debug`` (``exec --debug``) turns on debug mode for this run as ``train { debug = true }`` does;
    ``preflight=False`` (``exec --no-preflight``) skips the pre-flight check as ``train { preflight = false }``."""
    requeue_flag = install_requeue_flag()  # first: a SIGUSR1 during start-up must not kill the job
    _quiet_lightning()
    plan, notes = read_plan_with_notes(plan_path)
    for note in notes:  # a plan of an older schema runs, and the run says how it was read
        _say(note)
    pl.seed_everything(plan.seed, workers=True, verbose=False)
    run_dir = Path(plan.outputs.run_dir)
    if resume is None and not dry_run_only and (found := requeued_checkpoint(run_dir, plan_hash(plan))):
        _say(f"note: continuing the requeued run in {run_dir}")
        resume = str(found)
    parts = build_components(plan)
    for line in parts.data.skipped_lines():  # a limited-area model's dates that one of its stores lacks
        _say(line)
    debug = (debug or plan.training.debug) and not dry_run_only
    if debug:
        _say(debug_subset(parts.data))
    decision, checkpoint = _resume(resume, plan, plan_path)
    parent = decision.parent_plan_hash if decision is not None else None
    lineage = make_lineage(plan, parts.data.store.metadata.fingerprint, parent=parent)
    total_steps = total_optimiser_steps(plan, len(parts.data.train_starts), max_steps)
    module = ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                            total_steps=total_steps, lineage=lineage,
                            latitudes=parts.data.latitudes[:plan.output_points],  # the points scored
                            longitudes=parts.data.longitudes[:plan.output_points])
    if decision is None and plan.training.init is not None:  # a fresh run: --resume (any mode) takes precedence
        _say(load_parts(module, plan.training.init))
    if dry_run_only:
        return dry_run(module, parts, plan)
    if decision is not None and decision.mode == "warm_start":
        _say(warm_start(module, checkpoint["state_dict"]))
    if (decision is None or decision.mode == "warm_start") and _first_process():
        archived = archive_previous_checkpoints(run_dir)
        if archived is not None:
            _say(f"note: {run_dir} held checkpoints of an earlier run; moved them to {archived} "
                 f"(continue that run with --resume {archived})")
    data = TrainingData(parts.data, plan.training.limit_batches_per_epoch)
    if debug:
        module.guard = build_guard(plan, parts.data, lambda: data.train_loader, module.task)
        module.guard.attach(module.model)
    ema = ExponentialMovingAverage(plan.training.ema_decay) if plan.training.ema_decay else None
    resumed_from = decision.checkpoint.parent if decision is not None and decision.mode == "resume" else None
    logger, tracking = _tracking(plan, Path(plan_path), resumed_from)
    callbacks = build_callbacks(plan, run_dir, data, ema, tracking, total_steps, requeue_flag,
                                preflight=preflight and plan.training.preflight)
    trainer = build_trainer(plan, callbacks, logger, max_steps, debug=debug)
    ckpt_path = str(decision.checkpoint) if decision is not None and decision.mode == "resume" else None
    trainer.fit(module, datamodule=data, ckpt_path=ckpt_path)
    requeue = next((c for c in callbacks if isinstance(c, RequeueOnSignal)), None)
    if requeue is not None and requeue.requeued:  # the requeued job trains on and reports at the end
        return 1 if requeue.failure else 0
    if trainer.is_global_zero:
        clear_marker(run_dir)
        module.to(trainer.strategy.root_device)  # Lightning hands the module back on the CPU after fit
        module.unshard()  # rank 0 scores the whole model alone
        text = final_report(module, parts, ema, run_dir)
        print(text, end="", flush=True)
        if tracking is not None:
            tracking.log_report(text)
    return 0


def _tracking(plan: Plan, plan_path: Path, resumed_from: Path | None = None) -> tuple[Any, Any]:
    """An exact resume (``resumed_from``: its checkpoint folder) continues the MLflow run recorded there."""
    if not plan.outputs.tracking.enabled:
        return None, None
    from anemoic.runtime.tracking.mlflow_tracking import start_tracking

    return start_tracking(plan, plan_path, plan_hash(plan), Path.cwd(), Path(plan.outputs.run_dir) / CHECKPOINT_DIR,
                          resumed_from if _first_process() else None)
