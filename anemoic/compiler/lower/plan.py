"""Lowering: a checked experiment -> the plan, with every derived field written here and only here
(graph cache key, node weights, effective learning rate, data-parallel size, dataset fingerprint), so
the runtime interprets nothing and each plan field has one writer."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json

from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.compiler.typecheck.experiment import CheckedExperiment
from anemoic.plan.model import (
    BoundaryPlan, DatasetPlan, DateRangePlan, GraphPlan, NodesPlan, OptimiserPlan, ParallelPlan, Plan, SourcePlan,
    SweepMemberPlan, TrainingPlan,
)


def graph_cache_key(graph: GraphPlan, fingerprint: str) -> str:
    """sha256 of the canonical JSON of the recipe (everything but name and key) + the dataset fingerprint."""
    recipe = {k: val for k, val in dataclasses.asdict(graph).items() if k not in ("name", "cache_key")}
    text = json.dumps(recipe, sort_keys=True, separators=(",", ":")) + fingerprint
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _dataset(checked: CheckedExperiment, info: DatasetInfo | None = None) -> DatasetPlan:
    """The region's dataset, or (``info``) a limited-area model's boundary, read over the region's periods."""
    info = info or checked.dataset
    meta = info.metadata
    periods = {k: DateRangePlan(_iso(p.start), _iso(p.end)) for k, p in checked.dataset.periods.items()}
    assert info.frequency_s is not None  # checked
    return DatasetPlan(
        name=info.name, path=info.path, fingerprint=meta.fingerprint if meta is not None else "",
        frequency_s=info.frequency_s, grid_size=meta.grid_size if meta is not None else 0,
        ensemble_size=meta.ensemble_size if meta is not None else 1,
        train=periods["train"], validate=periods["validate"], test=periods.get("test"))


def _boundary(checked: CheckedExperiment) -> BoundaryPlan | None:
    if checked.boundary is None:
        return None
    b = checked.boundary
    return BoundaryPlan(dataset=_dataset(checked, b.dataset), variables=b.variables, margin_km=b.margin_km,
                        forced=b.forced)


def _source(checked: CheckedExperiment) -> SourcePlan | None:
    """A spatial downscaler's coarse dataset, read over the fine dataset's periods."""
    if checked.source is None:
        return None
    return SourcePlan(dataset=_dataset(checked, checked.source.info), variables=checked.source.variables)


def _grid_fingerprint(dataset: DatasetPlan, boundary: BoundaryPlan | None, source: SourcePlan | None = None) -> str:
    """What the graph's data grid is made of: the store's, the region's and the boundary's with the margin, or a
    spatial downscaler's coarse store's then the fine store's."""
    if source is not None:
        return f"{source.dataset.fingerprint}+{dataset.fingerprint}"
    if boundary is None:
        return dataset.fingerprint
    return f"{dataset.fingerprint}+cutout({boundary.dataset.fingerprint},{boundary.margin_km!r})"


def _graph(checked: CheckedExperiment, fingerprint: str) -> GraphPlan:
    """Node weights: as the graph says, else as the loss's node scaler asks, else spherical areas.  For a
    limited-area model the node-weights scaler is normalised over the region (``task.output_mask``), where
    alone the loss is computed."""
    g = checked.graph
    weights = g.node_weights or checked.loss.node_weights or "spherical_area"
    graph = GraphPlan(name=g.name, cache_key="", data=NodesPlan("dataset"), hidden=g.hidden, encoder=g.encoder,
                      processor=g.processor, decoder=g.decoder, node_weights=weights,  # type: ignore[arg-type]
                      node_weights_norm=g.node_weights_norm)  # type: ignore[arg-type]
    return dataclasses.replace(graph, cache_key=graph_cache_key(graph, fingerprint))


def _training(checked: CheckedExperiment) -> TrainingPlan:
    """The effective learning rate: the written rate times the data-parallel size when ``scale_lr``."""
    train = checked.training
    optimiser = OptimiserPlan(**train.optimiser)
    scale = checked.data_parallel if train.scale_lr else 1
    optimiser = dataclasses.replace(optimiser, effective_lr=optimiser.lr * scale)
    return TrainingPlan(optimiser=optimiser, schedule=train.schedule, **train.fields)


def _source_map(checked: CheckedExperiment) -> dict[str, str]:
    """The derived effective LR is blamed on `scale_lr` where it is written, else on the line that sets `lr`."""
    source_map = dict(checked.source_map)
    if "training.optimiser.lr" in source_map:
        source_map.setdefault("training.optimiser.effective_lr", source_map["training.optimiser.lr"])
    return source_map


def lower(checked: CheckedExperiment, name: str, sweep: SweepMemberPlan | None) -> Plan:
    dataset = _dataset(checked)
    boundary, source = _boundary(checked), _source(checked)
    parallel: ParallelPlan = dataclasses.replace(checked.parallel, data_parallel_size=checked.data_parallel)
    return Plan(
        name=name, seed=checked.training.seed, dataset=dataset, variables=checked.variables.variables,
        indices=checked.variables.indices, graph=_graph(checked, _grid_fingerprint(dataset, boundary, source)),
        model=checked.model, task=checked.task.plan, loss=checked.loss.plan, training=_training(checked),
        parallel=parallel, outputs=checked.outputs, site=checked.site, sweep=sweep, boundary=boundary, source=source,
        source_map=_source_map(checked))
