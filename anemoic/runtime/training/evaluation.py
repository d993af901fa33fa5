"""Scores of the trained model on the validation samples next to its task's baseline and climatology.

Run once on one process after training (it reads the validation samples in
order, so it knows each sample's valid times for the climatology); it is what
the end-of-run report prints.
"""

from __future__ import annotations

import numpy as np
import torch

from anemoic.plan.kinds import MetricKind
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.methods import Stream
from anemoic.runtime.training.climatology import Climatology
from anemoic.runtime.training.module import ForecastModule, dataset_parts
from anemoic.runtime.training.scores import ScoreSums


def build_climatology(data: AnemoicDataModule) -> Climatology:
    """Over the scored points: a stretched grid's outer dataset's from its own store."""
    plan = data.plan
    by_name = {v.name: v for v in plan.variables}
    indices = [by_name[name].store_index for name in plan.indices.output]
    climatology = Climatology.from_store(data.store, plan.dataset.train.start, plan.dataset.train.end, indices)
    if data.boundary is None or plan.output_points is not None:  # one dataset, or a limited-area model's region
        return climatology
    outer = {v.name: v for v in plan.boundary.variables}  # type: ignore[union-attr]
    around = Climatology.from_store(data.boundary.store, plan.dataset.train.start, plan.dataset.train.end,
                                    [outer[name].store_index for name in plan.indices.output])
    return climatology.beside(around, data.boundary.grid.boundary_index)


@torch.no_grad()
def validation_scores(module: ForecastModule, data: AnemoicDataModule, climatology: Climatology,
                      batch_size: int = 4, metrics: tuple[MetricKind, ...] = ("rmse",),
                      per_dataset: dict[str, ScoreSums] | None = None) -> ScoreSums:
    """An ensemble draws its noise from the ``SCORE`` stream, seeded per batch: the same scores every time.
    ``per_dataset``: filled, for a stretched grid, with each dataset's scores over its own points."""
    plan = module.plan
    dataset = data.dataset("validate")
    steps = module.task.validation_steps
    target_times = module.task.target_times(steps)
    scores = ScoreSums(steps, len(plan.indices.output), metrics=metrics)
    parts = dataset_parts(plan) if per_dataset is not None else ()
    for name, _ in parts:
        per_dataset[name] = ScoreSums(steps, len(plan.indices.output), metrics=metrics)  # type: ignore[index]
    was_training = module.training
    module.eval()
    device = module.device
    for start in range(0, len(dataset), batch_size):
        picked = range(start, min(start + batch_size, len(dataset)))
        batch = torch.stack([dataset[i] for i in picked]).to(device)
        model = module.method.bind(module.model, module.method.generator(plan.seed, Stream.SCORE, start))
        result = module.task.validation_rollout(model, module.normalise(batch), steps)
        target, baseline = module.physical_truth(batch, steps)  # NaN where data is missing: not scored
        target, baseline = module.on_output_grid(target), module.on_output_grid(baseline)
        prediction = module.on_output_grid(module.denormalise_output(result.predictions))
        valid_times = np.stack([dataset.dates(i)[target_times] for i in picked])
        clim = climatology.for_dates(valid_times.reshape(-1))
        if clim.shape[-2] < target.shape[3]:  # a spatial downscaler: the fine points follow the unscored coarse ones
            unscored = np.full((*clim.shape[:-2], target.shape[3] - clim.shape[-2], clim.shape[-1]), np.nan)
            clim = np.concatenate([unscored, clim], axis=-2)
        clim = clim.reshape(len(picked), steps, 1, *target.shape[3:])
        clim_t = torch.from_numpy(clim).to(target).expand_as(target)
        into = [(scores, slice(None))] + [(per_dataset[name], points) for name, points in parts]  # type: ignore[index]
        for sums, points in into:
            at = lambda t: t[..., points, :]  # noqa: E731
            weights = module.node_weights[points]
            sums.add("model", at(prediction), at(target), weights)
            if module.task.has_lead_times:  # an autoencoder's "persistence" is the truth it reconstructs
                sums.add(module.task.baseline_name, at(baseline), at(target), weights)
            sums.add("climatology", at(clim_t), at(target), weights)
    module.train(was_training)
    return scores
