"""Everything a run needs, built from the plan: store, graph, model, loss, preprocessor, data.

This is the one place where the runtime's parts meet (data, graphs, models,
losses); ``exec``, ``--dry-run`` and ``predict`` all go through it, so a plan
that dry-runs is a plan that trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from anemoic.plan.model import Plan
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.data.preprocessing import Preprocessor
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.tasks import TASKS, Task
from anemoic.runtime.training.resumable_loader import ResumableLoader


@dataclass
class Components:
    plan: Plan
    data: AnemoicDataModule
    graph: Any  # torch_geometric HeteroData
    model: torch.nn.Module
    loss: torch.nn.Module
    preprocessor: Preprocessor
    task: Task
    node_weights: torch.Tensor  # (G,) area weights of the data nodes, summing to 1


def graph_cache_dir(plan: Plan) -> Path:
    return Path(plan.outputs.run_dir) / "graphs"


def build_graph_for(plan: Plan, latitudes: Any, longitudes: Any, cache_dir: Path | None) -> Any:
    from anemoic.runtime.models.graph_tensors import build_graph

    return build_graph(plan.graph, latitudes, longitudes, cache_dir=cache_dir)


def check_supported(plan: Plan) -> None:
    """Refuse, before anything is built, what this runtime cannot run: kinds are the schema's business
    (``read_plan`` refuses an unknown one); model sharding only a newer compiler writes into a plan."""
    if plan.parallel.gpus_per_model > 1:
        raise RuntimeUserError(f"error: the plan shards the model (parallel.gpus_per_model = "
                               f"{plan.parallel.gpus_per_model}), which this runtime cannot run; "
                               "rebuild the plan with this anemoic (`anemoic build`)")


def build_task(plan: Plan, preprocessor: Preprocessor) -> Task:
    """The plan's task, through the registry ``TASKS``."""
    scale = None
    if plan.task.prediction == "tendency":
        scale = preprocessor.tendency_scale[preprocessor.prognostic_in_output].clone()
    return TASKS[plan.task.kind].from_plan(plan, tendency_scale=scale)


def build_components(plan: Plan, *, cache_graph: bool = True) -> Components:
    check_supported(plan)
    data = AnemoicDataModule.from_plan(plan)
    store = data.store
    graph = build_graph_for(plan, store.latitudes, store.longitudes, graph_cache_dir(plan) if cache_graph else None)
    from anemoic.runtime.losses import build_loss
    from anemoic.runtime.models import build_model

    try:
        model = build_model(plan, graph)
        loss = build_loss(plan, graph)
    except ValueError as exc:  # the builders name the inconsistency in the plan
        raise RuntimeUserError(f"error: the plan's model or loss cannot be built: {exc}") from None
    preprocessor = data.preprocessor()
    weights = graph["data"].area_weight.float()
    return Components(plan, data, graph, model, loss, preprocessor, build_task(plan, preprocessor),
                      weights / weights.sum())


class TrainingData(pl.LightningDataModule):
    """The data engineer's DataModule with a mid-epoch-resumable training loader."""

    def __init__(self, inner: AnemoicDataModule, limit_batches: int | None) -> None:
        super().__init__()
        self.inner = inner
        self.limit_batches = limit_batches
        self.train_loader: ResumableLoader | None = None

    def train_dataloader(self) -> ResumableLoader:
        self.inner.trainer = self.trainer
        self.train_loader = ResumableLoader(self.inner.train_dataloader(), self.limit_batches)
        return self.train_loader

    def val_dataloader(self) -> Any:
        self.inner.trainer = self.trainer
        return self.inner.val_dataloader()
