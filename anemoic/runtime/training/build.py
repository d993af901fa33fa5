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
from anemoic.runtime.distributed.groups import check_layout, started_world_size
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
    node_weights: torch.Tensor  # (G_out,) area weights of the scored data nodes (a LAM's region), summing to 1


def graph_cache_dir(plan: Plan) -> Path:
    return Path(plan.outputs.run_dir) / "graphs"


def region_size(plan: Plan) -> int | None:
    """A limited-area model's region: the first points of its cut-out grid (what a mesh ``mask`` keeps near)."""
    return plan.dataset.grid_size if plan.boundary is not None else None


def build_graph_for(plan: Plan, latitudes: Any, longitudes: Any, cache_dir: Path | None) -> Any:
    from anemoic.runtime.models.graph_tensors import build_graph

    return build_graph(plan.graph, latitudes, longitudes, cache_dir=cache_dir, region_size=region_size(plan))


def output_weights(plan: Plan, graph: Any) -> torch.Tensor:
    """The area weights the validation scores use, summing to 1: over the whole grid, or over a limited-area
    model's output mask (its region, the first ``plan.dataset.grid_size`` points); a stretched grid's over
    both datasets."""
    weights = graph["data"].area_weight.float()
    if plan.output_points is not None:
        weights = weights[: plan.output_points]
    return weights / weights.sum()


def check_limited_area(plan: Plan) -> None:
    """What this runtime trains of a limited-area model (the compiler refuses the rest)."""
    if plan.boundary is None:
        return
    if plan.task.kind != "forecaster":
        raise RuntimeUserError(f"error: a limited-area model is trained as a forecaster by this runtime, not a "
                               f"{plan.task.kind}; rebuild the plan without the boundary dataset")
    if plan.parallel.gpus_per_model > 1 or plan.parallel.read_group_size > 1:
        raise RuntimeUserError("error: a limited-area model is not sharded by this runtime; rebuild the plan with "
                               "gpus_per_model = 1 and read_group_size = 1")


def check_supported(plan: Plan) -> None:
    """Refuse, before anything is built, a layout the started processes or the model cannot form (kinds are
    the schema's business: ``read_plan`` refuses an unknown one). The compiler checks the same rules; these
    catch an allocation that differs from the plan's (srun, torchrun) and plans written by hand."""
    parallel, model = plan.parallel, plan.model
    started = started_world_size()
    check_layout(parallel, started if started is not None else parallel.nodes * parallel.processes_per_node)
    check_limited_area(plan)
    shards = parallel.gpus_per_model
    if shards > 1 and parallel.shard_strategy == "heads" and model.heads % shards:
        raise RuntimeUserError(f"error: the model's {model.heads} attention heads cannot be split over "
                               f"gpus_per_model = {shards} ranks (parallel.shard_strategy = heads); rebuild the "
                               f"plan with heads a multiple of {shards}, or shard by edges")
    if shards > 1 and plan.task.kind == "autoencoder":
        raise RuntimeUserError(f"error: an autoencoder is not trained on a model sharded over gpus_per_model = "
                               f"{shards} ranks by this runtime; rebuild the plan with gpus_per_model = 1")
    if shards > 1 and parallel.keep_batch_sharded and parallel.read_group_size != shards:
        raise RuntimeUserError(f"error: keep_batch_sharded needs each of the {shards} ranks of a model group to "
                               f"read its own grid shard (parallel.read_group_size {shards}, not "
                               f"{parallel.read_group_size})")


def build_task(plan: Plan, preprocessor: Preprocessor) -> Task:
    """The plan's task, through the registry ``TASKS``."""
    scale = None
    if plan.task.prediction == "tendency":
        scale = preprocessor.tendency_scale[preprocessor.prognostic_in_output].clone()
    return TASKS[plan.task.kind].from_plan(plan, tendency_scale=scale)


def build_components(plan: Plan, *, cache_graph: bool = True) -> Components:
    check_supported(plan)
    data = AnemoicDataModule.from_plan(plan)
    if plan.source is not None:  # a spatial downscaler: from the coarse grid to the fine one (built, not cached)
        from anemoic.runtime.models.graph_tensors import build_downscale_graph

        graph = build_downscale_graph(plan.graph, data.source_store, data.store)  # type: ignore[attr-defined]
    else:
        graph = build_graph_for(plan, data.latitudes, data.longitudes, graph_cache_dir(plan) if cache_graph else None)
    from anemoic.runtime.losses import build_loss
    from anemoic.runtime.models import build_model

    try:
        model = build_model(plan, graph)
        loss = build_loss(plan, graph)
    except ValueError as exc:  # the builders name the inconsistency in the plan
        raise RuntimeUserError(f"error: the plan's model or loss cannot be built: {exc}") from None
    preprocessor = data.preprocessor()
    return Components(plan, data, graph, model, loss, preprocessor, build_task(plan, preprocessor),
                      output_weights(plan, graph))


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
