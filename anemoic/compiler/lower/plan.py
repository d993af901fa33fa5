"""Assemble the plan from checked parts: fill derived fields (graph cache key, effective LR,
data-parallel size) so the runtime interprets nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.compiler.typecheck.graph_model import GraphParts
from anemoic.compiler.typecheck.variables import VariablesResult
from anemoic.plan.model import (
    DatasetPlan, DateRangePlan, GraphPlan, LossPlan, ModelPlan, NodesPlan, OutputsPlan, ParallelPlan, Plan, SitePlan,
    SweepMemberPlan, TaskPlan, TrainingPlan,
)


@dataclass
class Parts:
    name: str
    seed: int
    dataset: DatasetInfo
    variables: VariablesResult
    graph: GraphParts
    model: ModelPlan
    task: TaskPlan
    loss: LossPlan
    training: TrainingPlan
    parallel: ParallelPlan
    outputs: OutputsPlan
    site: SitePlan
    scale_lr: bool
    data_parallel: int
    sweep: SweepMemberPlan | None
    source_map: dict[str, str]


def _iso(value: object) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")  # type: ignore[attr-defined]


def graph_cache_key(graph: GraphPlan, fingerprint: str) -> str:
    """sha256 of the canonical JSON of the recipe (everything but name and key) + the dataset fingerprint."""
    recipe = {k: val for k, val in dataclasses.asdict(graph).items() if k not in ("name", "cache_key")}
    text = json.dumps(recipe, sort_keys=True, separators=(",", ":")) + fingerprint
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lower(parts: Parts) -> Plan:
    info = parts.dataset
    meta = info.metadata
    fingerprint = str(meta.fingerprint) if meta is not None else ""
    periods = {k: DateRangePlan(_iso(p.start), _iso(p.end)) for k, p in info.periods.items()}
    dataset = DatasetPlan(
        name=info.name, path=info.path, fingerprint=fingerprint, frequency_s=info.frequency_s,
        grid_size=int(meta.grid_size) if meta is not None else 0,
        ensemble_size=int(meta.ensemble_size) if meta is not None else 1,
        train=periods["train"], validate=periods["validate"], test=periods.get("test"))
    g = parts.graph
    graph = GraphPlan(name=g.name, cache_key="", data=NodesPlan("dataset"), hidden=g.hidden, encoder=g.encoder,
                      processor=g.processor, decoder=g.decoder, node_weights=g.node_weights,
                      node_weights_norm=g.node_weights_norm)
    graph = dataclasses.replace(graph, cache_key=graph_cache_key(graph, fingerprint))
    optimiser = parts.training.optimiser
    effective = optimiser.lr * parts.data_parallel if parts.scale_lr else optimiser.lr
    training = dataclasses.replace(parts.training, optimiser=dataclasses.replace(optimiser, effective_lr=effective))
    parallel = dataclasses.replace(parts.parallel, data_parallel_size=parts.data_parallel)
    source_map = dict(parts.source_map)
    if "training.optimiser.lr" in source_map:  # derived from the written lr: blame points there
        source_map.setdefault("training.optimiser.effective_lr", source_map["training.optimiser.lr"])
    return Plan(
        name=parts.name, seed=parts.seed, dataset=dataset, variables=parts.variables.variables,
        indices=parts.variables.indices, graph=graph, model=parts.model, task=parts.task, loss=parts.loss,
        training=training, parallel=parallel, outputs=parts.outputs, site=parts.site, sweep=parts.sweep,
        source_map=source_map)
