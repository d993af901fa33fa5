"""Chunked mappers (``num_chunks``): the same outputs and gradients as mappers in one piece, on one process.

Each chunk is a contiguous range of the mapper's destination nodes with its incoming edges, recomputed on
backward; the memory it saves is measured by ``benchmarks/sharding.py`` (layouts ``chunks-N``).
"""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.models import build_model
from tests.factories import make_plan
from tests.runtime.models.tiny_graph import tiny_graph

GRAPH = tiny_graph(grid=40, hidden=12)


def _model(mapper: str, chunks: int, **overrides: object) -> torch.nn.Module:
    plan = make_plan(**{"model.channels": 16, "model.heads": 4, "model.encoder": mapper, "model.decoder": mapper,
                        "model.num_chunks": chunks, **overrides})
    torch.manual_seed(0)
    return build_model(plan, GRAPH)


def _step(model: torch.nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 1, 40, len(model.io.input_variables), generator=g)
    y = model(x)
    y.square().mean().backward()
    return y.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("mapper", ["graphtransformer", "gnn"])
@pytest.mark.parametrize("chunks", [2, 5, 40])  # 40: one destination node per chunk for the decoder
def test_chunked_mappers_compute_what_whole_mappers_compute(mapper: str, chunks: int) -> None:
    whole_out, whole_grads = _step(_model(mapper, 1))
    chunked = _model(mapper, chunks)
    assert chunked.decoder.run is not None and len(chunked.decoder.run.parts) == min(chunks, 40)
    out, grads = _step(chunked)
    # each destination meets the same edges in the same order; matrix products over fewer rows may round
    # differently (bitwise equal for 2 chunks here, not for 5 or 40)
    torch.testing.assert_close(out, whole_out, rtol=1e-6, atol=1e-6)
    for name, grad in whole_grads.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-5, atol=1e-7, msg=name)


def test_chunks_and_gradient_checkpointing_together() -> None:
    whole_out, whole_grads = _step(_model("graphtransformer", 1))
    out, grads = _step(_model("graphtransformer", 3, **{"model.gradient_checkpointing": True}))
    torch.testing.assert_close(out, whole_out, rtol=1e-6, atol=1e-6)
    for name, grad in whole_grads.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-5, atol=1e-7, msg=name)


def test_a_chunk_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="num_chunks must be at least 1, got 0"):
        _model("gnn", 0)
