"""Compile-time estimates: graph sizes, parameter count, memory per GPU (torch-free).

The parameter count follows the modules in ``anemoic.runtime.models`` term by
term (a test builds the real module on a small plan and compares
``sum(p.numel())``).  The memory estimate is a documented rule of thumb, not a
measurement: activations kept for backward per processed node and edge, times
the samples a GPU holds at once (batch x ensemble members x rollout steps: every
device holds all members of its samples), divided over the GPUs of a model group (sharding), and cut to
the block inputs plus one block when gradient checkpointing recomputes the
rest; plus 16 bytes per parameter for fp32 weights, gradients and AdamW's two
moments.  ``docs/plan.md`` lists the coefficients.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from anemoic.compiler.data_grid import model_grid_size, region_box
from anemoic.compiler.diagnostics import Diagnostic, span_for
from anemoic.graphs.errors import GraphError
from anemoic.graphs.sizes import estimate_sizes
from anemoic.plan.kinds import MapperKind, ProcessorKind
from anemoic.plan.model import EstimatesPlan, ModelPlan, Plan
from anemoic.plan.windows import output_steps

GIB = 1024**3
PARAMETER_STATE_BYTES = 16  # fp32 weight + gradient + AdamW exp_avg + exp_avg_sq
POSITION_FEATURES = 4  # sin/cos of latitude and longitude
_EDGE_ATTRIBUTE_WIDTH = {"edge_length": 1, "edge_direction": 2}
_GLU = ("swiglu", "geglu")


def human_bytes(value: int) -> str:
    """Bytes in the unit people think in here: GiB from one GiB up, MiB below."""
    if value >= GIB:
        return f"{value / GIB:.1f} GiB"
    return f"{value / 1024**2:.1f} MiB"


def _linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def _norm(spec: ModelPlan, channels: int) -> int:
    return channels if spec.norm == "rmsnorm" else 2 * channels  # RMSNorm: weight; LayerNorm: weight + bias


def _mlp(spec: ModelPlan, n_in: int, n_out: int, hidden: int) -> int:
    first = _linear(n_in, 2 * hidden) if spec.activation in _GLU else _linear(n_in, hidden)
    return first + _linear(hidden, n_out)


def _qk_norms(spec: ModelPlan) -> int:
    return 2 * _norm(spec, spec.channels // spec.heads) if spec.qk_norm else 0


def _graph_transformer_block(spec: ModelPlan, *, bipartite: bool, attr_width: int) -> int:
    """Each block projects the raw edge attributes itself (no shared edge embedding)."""
    c = spec.channels
    norms = _norm(spec, c) * (3 if bipartite else 2)  # (source,) destination, before the MLP
    attention = _linear(c, c) + _linear(c, 2 * c) + _linear(attr_width, c) + _linear(c, c) + _qk_norms(spec)
    return norms + attention + _mlp(spec, c, c, spec.mlp_hidden_ratio * c)


def _gnn_block(spec: ModelPlan) -> int:
    c = spec.channels
    return _mlp(spec, 3 * c, c, c) + _norm(spec, c) + _mlp(spec, 2 * c, c, c) + _norm(spec, c)


def _transformer_block(spec: ModelPlan) -> int:
    c = spec.channels
    return (2 * _norm(spec, c) + _linear(c, 3 * c) + _qk_norms(spec) + _linear(c, c)
            + _mlp(spec, c, c, spec.mlp_hidden_ratio * c))


def _pointwise_block(spec: ModelPlan) -> int:
    return _norm(spec, spec.channels) + _mlp(spec, spec.channels, spec.channels, spec.mlp_hidden_ratio * spec.channels)


def edge_attribute_width(plan: Plan) -> int:
    return sum(_EDGE_ATTRIBUTE_WIDTH.get(name, 1) for name in plan.graph.edge_attributes)


def _graph_transformer_mapper(spec: ModelPlan, attr_width: int) -> int:
    return _graph_transformer_block(spec, bipartite=True, attr_width=attr_width)


def _gnn_mapper(spec: ModelPlan, attr_width: int) -> int:
    return _linear(attr_width, spec.channels) + _gnn_block(spec)  # GNN: edge latents embedded once


MAPPER_PARAMETERS: dict[MapperKind, Callable[[ModelPlan, int], int]] = {
    "graphtransformer": _graph_transformer_mapper, "gnn": _gnn_mapper,
}
"""Parameters of one mapper (encoder or decoder) of each kind, given the edge attribute width."""

PROCESSOR_PARAMETERS: dict[ProcessorKind, Callable[[ModelPlan, int], int]] = {
    "graphtransformer": lambda spec, width: spec.layers * _graph_transformer_block(spec, bipartite=False,
                                                                                   attr_width=width),
    "gnn": lambda spec, width: _linear(width, spec.channels) + spec.layers * _gnn_block(spec),
    "transformer": lambda spec, width: spec.layers * _transformer_block(spec),
    "mlp": lambda spec, width: spec.layers * _pointwise_block(spec),
}
"""Parameters of the processor of each kind, given the edge attribute width."""


def parameter_count(plan: Plan, data_nodes: int, hidden_nodes: int) -> int:
    """Trainable parameters of ``anemoic.runtime.models.build_model(plan, graph)``."""
    spec, attr_width = plan.model, edge_attribute_width(plan)
    n_in, n_out = len(plan.indices.input), len(plan.indices.output)
    trainable = data_nodes * spec.trainable_data_size + hidden_nodes * spec.trainable_hidden_size
    embeddings = (_linear(plan.task.multistep_input * n_in + POSITION_FEATURES + spec.trainable_data_size,
                          spec.channels)
                  + _linear(POSITION_FEATURES + spec.trainable_hidden_size, spec.channels))
    mappers = MAPPER_PARAMETERS[spec.encoder](spec, attr_width) + MAPPER_PARAMETERS[spec.decoder](spec, attr_width)
    head = _norm(spec, spec.channels) + _linear(spec.channels, n_out * output_steps(plan.task))
    processor = 0 if plan.task.kind == "autoencoder" else PROCESSOR_PARAMETERS[spec.processor](spec, attr_width)
    return trainable + embeddings + mappers + processor + head + noise_parameters(plan)


def noise_parameters(plan: Plan) -> int:
    """The ensemble's noise module (``anemoic.runtime.models.noise``): an MLP of the noise, then a projection of
    the latent and the noise (inject) or a norm with a scale and shift from the noise (condition)."""
    noise, spec = plan.task.method.noise, plan.model
    if noise is None:
        return 0
    mlp = _mlp(spec, noise.channels, noise.channels, noise.hidden)
    if noise.kind == "inject":
        return mlp + _linear(spec.channels + noise.channels, spec.channels)
    return mlp + _norm(spec, spec.channels) + _linear(noise.channels, 2 * spec.channels)


# Activations kept for backward per node / edge of one block, in units of `channels` elements, fitted to
# measurements on an H100 (benchmarks/plan_estimates.py; r = MLP ratio).  GraphTransformer blocks keep
# few edge tensors (the attention kernel saves per-edge logits only); GNN blocks keep edge messages.
NODE_FACTOR: dict[ProcessorKind, Callable[[int], float]] = {
    "graphtransformer": lambda r: 2 + r, "transformer": lambda r: 8 + 2 * r, "mlp": lambda r: 2 + 2 * r,
    "gnn": lambda r: 7,
}
EDGE_FACTOR: dict[ProcessorKind, float] = {"graphtransformer": 3.0, "gnn": 7.0, "transformer": 0.0, "mlp": 0.0}
_ATTENTION_SCORES_KEPT = 1.5  # sliding-window scores (and softmax) held per head, query and key
_EMBEDDING_FACTOR = 3  # node embeddings of data and hidden nodes before the encoder
_CARRIES_EDGE_LATENTS = ("gnn",)  # processors whose blocks pass an edge latent on to the next block


def _bytes_per_element(precision: str) -> float:
    """fp32 everywhere; mixed precision keeps most activations in 16 bits but norms/softmax in fp32."""
    return 4.0 if precision == "32" else 2.4


def _processor_layer(spec: ModelPlan, hidden: int, edges: int) -> float:
    """Elements one processor block keeps for backward."""
    ratio, kind = spec.mlp_hidden_ratio, spec.processor
    kept = (NODE_FACTOR[kind](ratio) * hidden + EDGE_FACTOR[kind] * edges) * spec.channels
    if kind == "transformer":
        span = min(hidden, 3 * max(spec.window_size // 2, 1)) if spec.window_size else 0  # full: flash, none
        kept += _ATTENTION_SCORES_KEPT * spec.heads * hidden * span
    return kept


def activation_bytes(plan: Plan, nodes: dict[str, int], edges: dict[str, int]) -> int:
    """Activation memory one GPU holds for backward at the peak of a training step."""
    spec, ratio = plan.model, plan.model.mlp_hidden_ratio
    data, hidden = nodes.get("data", model_grid_size(plan)[0]), nodes.get("hidden", 0)

    def mapper(kind: str, n_edges: int) -> float:
        return (NODE_FACTOR[kind](ratio) * (data + hidden) + EDGE_FACTOR[kind] * n_edges) * spec.channels

    encoder, decoder = mapper(spec.encoder, edges.get("encoder", 0)), mapper(spec.decoder, edges.get("decoder", 0))
    one_layer = _processor_layer(spec, hidden, edges.get("processor", 0))
    if plan.task.kind == "autoencoder":  # no processor runs (docs/models.md "Autoencoder")
        spec = dataclasses.replace(spec, layers=0)
        one_layer = 0.0
    if spec.gradient_checkpointing:  # block inputs kept, one block recomputed at a time
        carried = edges.get("processor", 0) if spec.processor in _CARRIES_EDGE_LATENTS else 0
        processor = spec.layers * (hidden + carried) * spec.channels + one_layer
        mappers = 2 * (data + hidden) * spec.channels + max(encoder, decoder)
    else:
        processor = spec.layers * one_layer
        mappers = encoder + decoder
    embeddings = _EMBEDDING_FACTOR * (data + hidden) * spec.channels
    per_sample = (processor + mappers + embeddings) * _bytes_per_element(plan.training.precision)
    samples = plan.training.batch_size * plan.task.method.members * max(plan.task.rollout.maximum,
                                                                         plan.task.rollout.start, 1)
    return int(per_sample * samples / max(plan.parallel.gpus_per_model, 1))


def graph_sizes(plan: Plan) -> dict[str, Any] | None:
    """Node and edge counts from the torch-free graph size estimator (None when it cannot tell), on the model's
    grid: a limited-area model's cut-out of its two stores (``anemoic.compiler.data_grid``)."""
    grid_size, exact = model_grid_size(plan)
    try:
        sizes = estimate_sizes(plan.graph, grid_size, region_box(plan))
    except GraphError:  # the recipe was checked by the compiler; an estimator gap must not stop a build
        return None
    return {**sizes, "exact": sizes["exact"] and exact}


def estimate(plan: Plan) -> EstimatesPlan:
    sizes = graph_sizes(plan)
    nodes = dict(sizes["nodes"]) if sizes else {"data": model_grid_size(plan)[0]}
    edges = dict(sizes["edges"]) if sizes else {}
    params = parameter_count(plan, nodes["data"], nodes.get("hidden", 0))
    return EstimatesPlan(
        graph_nodes={k: int(v) for k, v in nodes.items()},
        graph_edges={k: int(v) for k, v in edges.items()},
        parameter_count=params,
        activation_bytes_per_gpu=activation_bytes(plan, nodes, edges),
        parameter_state_bytes_per_gpu=params * PARAMETER_STATE_BYTES,
        exact=bool(sizes and sizes.get("exact")),
    )


def with_estimates(plan: Plan) -> tuple[Plan, list[Diagnostic]]:
    """The plan with ``estimates`` filled, and a warning when it will not fit the site's GPUs."""
    estimates = estimate(plan)
    plan = dataclasses.replace(plan, estimates=estimates)
    return plan, memory_warnings(plan)


def memory_bytes(plan: Plan) -> int:
    return plan.estimates.activation_bytes_per_gpu + plan.estimates.parameter_state_bytes_per_gpu


def with_estimates_all(plans: Sequence[Plan]) -> tuple[list[Plan], list[Diagnostic]]:
    """Every plan with estimates; one memory warning at most, for the largest member of a sweep."""
    filled = [dataclasses.replace(plan, estimates=estimate(plan)) for plan in plans]
    return filled, memory_warnings(max(filled, key=memory_bytes))


def memory_warnings(plan: Plan) -> list[Diagnostic]:
    limit_gb = plan.site.device_memory_gb
    est = plan.estimates
    total = memory_bytes(plan)
    if limit_gb is None or total <= limit_gb * GIB:
        return []
    member = f" (sweep member {plan.sweep.index}, the largest)" if plan.sweep and plan.sweep.count > 1 else ""
    hint = ("turn on gradient checkpointing" if not plan.model.gradient_checkpointing
            else "shard the model over more GPUs (gpus_per_model)")
    return [Diagnostic(
        "W0906",
        f"the estimated memory per GPU{member} ({human_bytes(total)}: {human_bytes(est.activation_bytes_per_gpu)} "
        f"activations + {human_bytes(est.parameter_state_bytes_per_gpu)} weights, gradients and optimiser state) "
        f"exceeds the site's device memory ({limit_gb:g} GiB)",
        span_for(plan.source_map, "site.device_memory_gb"),
        f"{hint}, lower the batch size or the rollout, or use bf16-mixed precision",
    )]
