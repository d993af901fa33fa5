"""Encoder-processor-decoder models (GNN, GraphTransformer, Transformer, MLP processors).

``build_model(plan, graph)`` is the entry point; see docs/models.md for the data flow.
"""

from anemoic.runtime.models.builder import build_model, build_model_from, model_io
from anemoic.runtime.models.encoder_processor_decoder import EncoderProcessorDecoder, ModelIO

__all__ = ["EncoderProcessorDecoder", "ModelIO", "build_model", "build_model_from", "model_io"]
