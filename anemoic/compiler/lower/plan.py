"""Lowering: a checked experiment -> the plan, with every derived field written here and only here
(graph cache key, node weights, effective learning rate, data-parallel size, dataset fingerprint), so
the runtime interprets nothing and each plan field has one writer."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json

from anemoic.compiler.typecheck.experiment import CheckedExperiment
from anemoic.plan.model import (
    DatasetPlan, DateRangePlan, GraphPlan, NodesPlan, OptimiserPlan, ParallelPlan, Plan, SourcePlan,
    SweepMemberPlan, TrainingPlan,
)


def graph_cache_key(graph: GraphPlan, fingerprint: str) -> str:
    """sha256 of the canonical JSON of the recipe (everything but name and key) + the dataset fingerprint."""
    recipe = {k: val for k, val in dataclasses.asdict(graph).items() if k not in ("name", "cache_key")}
    text = json.dumps(recipe, sort_keys=True, separators=(",", ":")) + fingerprint
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _dataset(checked: CheckedExperiment) -> DatasetPlan:
    info, meta = checked.dataset, checked.dataset.metadata
    periods = {k: DateRangePlan(_iso(p.start), _iso(p.end)) for k, p in info.periods.items()}
    assert info.frequency_s is not None  # checked
    return DatasetPlan(
        name=info.name, path=info.path, fingerprint=meta.fingerprint if meta is not None else "",
        frequency_s=info.frequency_s, grid_size=meta.grid_size if meta is not None else 0,
        ensemble_size=meta.ensemble_size if meta is not None else 1,
        train=periods["train"], validate=periods["validate"], test=periods.get("test"))


def _source(checked: CheckedExperiment, fine: DatasetPlan) -> SourcePlan | None:
    """A spatial downscaler's coarse dataset, read at the fine dataset's periods."""
    if checked.source is None:
        return None
    info, meta = checked.source.info, checked.source.info.metadata
    assert info.frequency_s is not None  # checked
    dataset = DatasetPlan(
        name=info.name, path=info.path, fingerprint=meta.fingerprint if meta is not None else "",
        frequency_s=info.frequency_s, grid_size=meta.grid_size if meta is not None else 0,
        ensemble_size=meta.ensemble_size if meta is not None else 1, train=fine.train, validate=fine.validate,
        test=fine.test)
    return SourcePlan(dataset=dataset, variables=checked.source.variables)


def _graph(checked: CheckedExperiment, fingerprint: str) -> GraphPlan:
    """Node weights: as the graph says, else as the loss's node scaler asks, else spherical areas."""
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
    source = _source(checked, dataset)
    fingerprint = dataset.fingerprint + (source.dataset.fingerprint if source is not None else "")
    parallel: ParallelPlan = dataclasses.replace(checked.parallel, data_parallel_size=checked.data_parallel)
    return Plan(
        name=name, seed=checked.training.seed, dataset=dataset, variables=checked.variables.variables,
        indices=checked.variables.indices, graph=_graph(checked, fingerprint), model=checked.model,
        task=checked.task.plan, loss=checked.loss.plan, training=_training(checked), parallel=parallel,
        outputs=checked.outputs, site=checked.site, sweep=sweep, source=source,
        source_map=_source_map(checked))
