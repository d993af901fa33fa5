"""Build the model a plan describes on the graph built from the plan's recipe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from anemoic.plan.windows import interpolation_weights, output_steps
from anemoic.runtime.models.edges import EdgeSet
from anemoic.runtime.models.encoder_processor_decoder import EncoderProcessorDecoder, ModelIO
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.models.mappers import build_mapper
from anemoic.runtime.models.noise import build_noise
from anemoic.runtime.models.processors import build_processor

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from anemoic.plan.model import ModelPlan, NoisePlan, Plan

ENCODER = ("data", "to", "hidden")
PROCESSOR = ("hidden", "to", "hidden")
DECODER = ("hidden", "to", "data")


def model_io(plan: Plan) -> ModelIO:
    """Variable bookkeeping of the model from the plan (also used by tests and the training loop)."""
    outputs = set(plan.indices.output)
    bounding = tuple((v.name, v.bounding) for v in plan.variables if v.bounding and v.name in outputs)
    return ModelIO(
        input_variables=plan.indices.input,
        output_variables=plan.indices.output,
        prognostic=plan.indices.prognostic,
        multistep_input=plan.task.multistep_input,
        prediction=plan.task.prediction,
        bounding=bounding,
        output_steps=output_steps(plan.task),
        residual_weights=interpolation_weights(plan.task) if plan.task.kind == "temporal_downscaler" else None,
        bottleneck=plan.task.kind == "autoencoder",
    )


def edge_set(graph: HeteroData, relation: tuple[str, str, str]) -> EdgeSet:
    """The ``relation`` edges of ``graph`` as an :class:`EdgeSet` (with a clear error if absent)."""
    if relation not in graph.edge_types:
        raise ValueError(f"the graph has no {relation[0]} -> {relation[2]} edges; it has {graph.edge_types}")
    store = graph[relation]
    cached = store["csc_index"] if "csc_index" in store else None
    return EdgeSet(store.edge_index, store.edge_attr, graph[relation[0]].num_nodes, graph[relation[2]].num_nodes,
                   index=cached)


def build_model(plan: Plan, graph: HeteroData) -> nn.Module:
    """forward(x (B, T_in, E, G, V_in), model_comm_group=None) -> (B, E, G, V_out), normalised; a temporal
    downscaler's model returns all its targets at once, (B, S, E, G, V_out) for S targets above 1.

    V_in = len(plan.indices.input), V_out = len(plan.indices.output), T_in = plan.task.multistep_input.
    With ``plan.task.prediction == "state"`` the output is the full next state (the last input step
    of each prognostic variable is added inside); with "tendency" the prognostic channels are the
    normalised tendency. An ensemble method's noise (``plan.task.method.noise``) acts on the hidden latent.
    See docs/models.md.
    """
    return build_model_from(plan.model, model_io(plan), graph, plan.task.method.noise)


def build_model_from(spec: ModelPlan, io: ModelIO, graph: HeteroData,
                     noise: NoisePlan | None = None) -> EncoderProcessorDecoder:
    """The model of ``spec`` with variables ``io``: the plan-free entry used by benchmarks/train_step.py."""
    kernels = LayerKernels(
        norm=spec.norm, activation=spec.activation, qk_norm=spec.qk_norm, mlp_hidden_ratio=spec.mlp_hidden_ratio
    )
    common = {"channels": spec.channels, "heads": spec.heads, "kernels": kernels,
              "backend": spec.attention_backend, "checkpointing": spec.gradient_checkpointing}
    encoder = build_mapper(spec.encoder, edges=edge_set(graph, ENCODER), num_chunks=spec.num_chunks, **common)
    decoder = build_mapper(spec.decoder, edges=edge_set(graph, DECODER), num_chunks=spec.num_chunks, **common)
    processor = None if io.bottleneck else build_processor(  # an autoencoder's latent is the encoder's
        spec.processor, edges=edge_set(graph, PROCESSOR), layers=spec.layers, window_size=spec.window_size, **common
    )
    return EncoderProcessorDecoder(
        io,
        data_latlon=graph["data"].x,
        hidden_latlon=graph["hidden"].x,
        encoder=encoder,
        processor=processor,
        decoder=decoder,
        channels=spec.channels,
        output_norm=kernels.make_norm(spec.channels),
        trainable_data_size=spec.trainable_data_size,
        trainable_hidden_size=spec.trainable_hidden_size,
        noise=build_noise(noise, spec.channels, int(graph["hidden"].x.shape[0]), kernels),
    )
