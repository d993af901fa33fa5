"""The Lightning module: owns the model, loss and preprocessor; delegates the rollout to a task.

Batches arrive in physical units ``(B, T, E, G, V_data)``; the preprocessor
(a module whose statistics are buffers in the state_dict) normalises them here
so one checkpoint carries everything needed to reproduce the normalisation.
Validation accumulates area-weighted error sums in physical units for the model
and the persistence baseline (climatology is added by the end-of-run report), per
variable and lead time, and logs ``val/<metric>/<variable>/<lead>`` (an autoencoder's reconstruction:
``val/<metric>/<variable>``) for each metric in ``plan.loss.metrics`` (the rank histogram:
``val/rank_histogram/<variable>/<lead>/<rank>``).
The method (``runtime/methods``) binds the model to a seeded noise generator for each batch, so an
ensemble draws the same noise whenever the same batch of the same epoch is trained or validated.

In a model group (``gpus_per_model`` > 1) ``setup`` shards the model across the group's ranks
(``runtime.distributed.sharding``): batches read in slices are assembled, each rank scores its own grid
points (the sums add up over all ranks), and with ``keep_batch_sharded`` the loss adds up its grid sums
over the group.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch

from anemoic.plan.model import Plan
from anemoic.runtime.distributed.sharding import Sharding
from anemoic.runtime.losses.sharded import GridShardedLoss
from anemoic.runtime.methods import Stream, build_method
from anemoic.runtime.tasks import Task
from anemoic.runtime.training.debug import NonFiniteGuard
from anemoic.runtime.training.schedule import build_optimiser, build_scheduler
from anemoic.runtime.training.scores import ScoreSums


def dataset_parts(plan: Plan) -> tuple[tuple[str, slice], ...]:
    """A stretched grid's datasets and their points (the region's first), scored each on its own too; none for
    any other model."""
    if plan.boundary is None or plan.boundary.forced:
        return ()
    region = plan.dataset.grid_size
    return ((plan.dataset.name, slice(0, region)), (plan.boundary.dataset.name, slice(region, None)))


class ForecastModule(pl.LightningModule):
    def __init__(self, plan: Plan, model: torch.nn.Module, loss: torch.nn.Module, preprocessor: torch.nn.Module,
                 task: Task, node_weights: torch.Tensor, total_steps: int, lineage: dict[str, Any], *,
                 latitudes: Any = None, longitudes: Any = None) -> None:
        """``latitudes``/``longitudes`` (degrees, of the scored grid: a limited-area model's region) place the
        validation example the tracking plots draw."""
        super().__init__()
        self.plan = plan
        self.model = model
        self.loss = loss
        self.preprocessor = preprocessor
        self.task = task
        self.method = build_method(plan)
        self.register_buffer("node_weights", node_weights.float(), persistent=False)
        self.total_steps = max(1, total_steps)
        self.lineage = lineage
        self.val_scores: ScoreSums | None = None
        self.val_loss_sums = torch.zeros(2, dtype=torch.float64)
        self.validation_example: tuple | None = None  # (lat, lon, target, prediction) for the tracking plots
        self.latitudes, self.longitudes = latitudes, longitudes
        self.sharding: Sharding | None = None
        self._shard_loss: GridShardedLoss | None = None
        self.guard: NonFiniteGuard | None = None  # debug mode's NaN/Inf guard (``training/debug.py``)

    # -- model groups ----------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Shard the model over this rank's model group, once the strategy has made the process groups."""
        groups = getattr(self.trainer.strategy, "process_groups", None)
        if groups is None or groups.layout.model_size == 1 or self.sharding is not None:
            return
        sharding = Sharding.build(self.plan, groups, self.model.grid_size, self.model.hidden_size)
        self.model.shard(sharding.context)
        if sharding.batch_sharded:
            self._shard_loss = GridShardedLoss(self.loss, sharding.data_range, sharding.context.comm)
        self.sharding = sharding

    @property
    def loss_fn(self) -> Any:
        """The loss as the task calls it: the plan's, or its grid-shard form with ``keep_batch_sharded``."""
        return self._shard_loss if self._shard_loss is not None else self.loss

    def unshard(self) -> None:
        """The whole model on this process again (the end-of-run report runs on rank 0 alone)."""
        if self.sharding is not None:
            self.model.unshard()
            self._shard_loss = None
            self.sharding = None

    def on_after_batch_transfer(self, batch: torch.Tensor, dataloader_idx: int) -> torch.Tensor:
        """A read group's slices become whole samples (unless the batch is kept sharded)."""
        return batch if self.sharding is None else self.sharding.assemble(batch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def bound_model(self, stream: Stream, batch_idx: int) -> Any:
        """The model as the task rolls it out for batch ``batch_idx`` of ``stream`` (an ensemble: with its noise):
        training draws new noise every epoch, validation the same noise at every validation."""
        rank = self.trainer.global_rank if self._trainer is not None else 0
        epoch = self.current_epoch if self._trainer is not None and stream == Stream.TRAIN else 0
        generator = self.method.generator(self.plan.seed, stream, epoch, batch_idx, rank)
        return self.method.bind(self.model, generator)

    # -- data in and out of normalised space -------------------------------------------------
    def normalise(self, batch: torch.Tensor) -> torch.Tensor:
        return self.preprocessor.normalise(batch)

    def denormalise_output(self, y: torch.Tensor) -> torch.Tensor:
        return self.preprocessor.denormalise_output(y)

    # -- training ------------------------------------------------------------------------------
    def missing(self, batch: torch.Tensor) -> torch.Tensor | None:
        """Where the raw batch has no value (imputed before the model sees it), or None if nowhere."""
        missing = torch.isnan(batch)
        return missing if bool(missing.any()) else None

    def physical_truth(self, batch: torch.Tensor, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw targets ``(B, R, E, G, V_out)`` and the task's baseline (persistence; a downscaler's linear
        interpolation), NaN where the data is missing (not scored)."""
        return self.task.targets(batch, steps), self.task.baseline(batch, steps)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        guard = self.guard
        if guard is not None:
            guard.begin(self.global_step, batch)
        x = self.normalise(batch)
        if guard is not None:
            guard.normalised(x)
        loss = self.task.training_loss(self.bound_model(Stream.TRAIN, batch_idx), self.loss_fn, x, self.current_epoch,
                                       self.missing(batch))
        if guard is not None:
            guard.loss(loss)
        # sync_dist: the epoch mean is over every rank's batches, not rank 0's (one scalar all-reduce a step)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, sync_dist=True, batch_size=x.shape[0])
        self.log("train/rollout", float(self.task.rollout_for_epoch(self.current_epoch)), on_step=True,
                 on_epoch=False, batch_size=x.shape[0])
        return loss

    def configure_optimizers(self) -> Any:
        spec = self.plan.training
        optimiser = build_optimiser(self.parameters(), spec.optimiser)
        total = spec.schedule.total_steps or self.total_steps
        scheduler = build_scheduler(optimiser, spec.schedule, spec.optimiser.effective_lr, total)
        return {"optimizer": optimiser, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    # -- validation ----------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self.val_scores = ScoreSums(self.task.validation_steps, len(self.plan.indices.output),
                                    metrics=self.plan.loss.metrics)
        self.val_loss_sums = torch.zeros(2, dtype=torch.float64)  # loss x samples, samples

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        x = self.normalise(batch)
        result = self.task.validation_rollout(self.bound_model(Stream.VALIDATE, batch_idx), x)
        steps = result.predictions.shape[1]
        missing = self.missing(batch)
        masks = self.task.targets(missing, steps) if missing is not None else None
        loss = 0.0
        for r in range(steps):
            extra = {"nan_mask": masks[:, r]} if masks is not None else {}
            loss = loss + self.loss_fn(result.predictions[:, r], result.targets[:, r], lead_time_index=r, **extra)
        if self.sharding is None or self.sharding.counts_samples:  # once per model group
            self.val_loss_sums += torch.tensor([float(loss / steps) * x.shape[0], x.shape[0]], dtype=torch.float64)
        assert self.val_scores is not None
        target, baseline = self.physical_truth(batch, steps)
        prediction = self.denormalise_output(result.predictions)
        self._score(prediction, target, baseline)
        if batch_idx == 0:
            self._keep_example(self.on_output_grid(target[0, 0, 0]), self.on_output_grid(prediction[0, 0, 0]))

    def on_output_grid(self, t: torch.Tensor) -> torch.Tensor:
        """``(..., G, V)`` over the points that are scored and written: a limited-area model's output mask (its
        region, the grid's first points); the whole grid otherwise (a stretched grid's two datasets)."""
        points = self.plan.output_points
        return t if points is None else t[..., :points, :]

    def _score(self, prediction: torch.Tensor, target: torch.Tensor, baseline: torch.Tensor) -> None:
        """Add to the validation sums; in a model group each rank adds its own grid points (B, R, E, G, V)."""
        assert self.val_scores is not None
        prediction, target, baseline = (self.on_output_grid(t) for t in (prediction, target, baseline))
        weights, count = self.node_weights, True
        if self.sharding is not None:
            prediction, target, baseline = (self.sharding.local(t, 3) for t in (prediction, target, baseline))
            weights, count = weights[self.sharding.data_range], self.sharding.counts_samples
        self.val_scores.add("model", prediction, target, weights, count_samples=count)
        for name, points in dataset_parts(self.plan):  # a stretched grid (never sharded): each dataset alone too
            at = lambda t: t[..., points, :]  # noqa: E731
            self.val_scores.add(f"model {name}", at(prediction), at(target), weights[points], count_samples=False)
        if self.task.has_lead_times:  # an autoencoder's "persistence" is the truth it reconstructs
            self.val_scores.add(self.task.baseline_name, baseline, target, weights)

    def _keep_example(self, target: torch.Tensor, prediction: torch.Tensor) -> None:
        """The first validation sample's fields (G, V) for the tracking plots, kept on rank 0."""
        if self.sharding is not None:  # every rank of the group takes part in gathering a kept-sharded field
            target, prediction = self.sharding.whole(target, 0), self.sharding.whole(prediction, 0)
        if self.trainer.is_global_zero:
            self.validation_example = (self.latitudes, self.longitudes, target.float().cpu().numpy(),
                                       prediction.float().cpu().numpy())

    def on_validation_epoch_end(self) -> None:
        scores = self.val_scores
        if scores is None or not scores.weights:
            return
        reduce = lambda t: self.trainer.strategy.reduce(t.to(self.device), reduce_op="sum").cpu()  # noqa: E731
        scores.reduce(reduce)
        # the mean over every validation sample, however unevenly the ranks share them (a mean of the ranks'
        # means would weigh a rank with one sample fewer as much as the others)
        total, samples = reduce(self.val_loss_sums).tolist()
        self.log("val/loss", total / max(samples, 1.0), prog_bar=True, on_epoch=True, sync_dist=False)
        offsets = self.task.lead_offsets(scores.leads)  # a forecaster's lead, a downscaler's target offset
        # a stretched grid's datasets each on its own points too: val/<dataset>/<metric>/...
        for kind, prefix in [("model", "val/"), *((f"model {d}", f"val/{d}/") for d, _ in dataset_parts(self.plan))]:
            self._log_scores(scores, kind, prefix, offsets)

    def _log_scores(self, scores: ScoreSums, kind: str, prefix: str, offsets: tuple[int, ...]) -> None:
        for metric in scores.metrics:
            model = scores.score(kind, metric)
            for v, name in enumerate(self.plan.indices.output):
                for lead in range(scores.leads):  # an autoencoder's one reconstruction has no lead time
                    key = f"{prefix}{metric}/{name}/{offsets[lead]}" if self.task.has_lead_times else \
                        f"{prefix}{metric}/{name}"
                    values = model[lead, v]
                    if values.dim() == 0:
                        self.log(key, float(values), on_epoch=True, rank_zero_only=True)
                        continue
                    for rank, share in enumerate(values.tolist()):  # the rank histogram: one value per rank
                        self.log(f"{key}/{rank}", float(share), on_epoch=True, rank_zero_only=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["anemoic"] = dict(self.lineage)
