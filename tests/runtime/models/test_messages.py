"""Every message build_model gives for a plan it cannot build, checked against a golden file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anemoic.runtime.models import build_model
from tests.factories import make_plan
from tests.golden import assert_golden
from tests.runtime.models.tiny_graph import tiny_graph

GOLDEN = Path(__file__).parent / "golden" / "build_model_errors.txt"
GRAPH = tiny_graph(grid=40, hidden=12)


def _messages() -> list[str]:
    base = {"model.channels": 16, "model.heads": 4}
    cases = [
        {"model.processor": "convnext"},
        {"model.encoder": "transformer"},
        {"model.heads": 5},
        {"model.norm": "batchnorm"},
        {"model.activation": "tanh"},
        {"task.prediction": "delta"},
        {"task.multistep_input": 0},
        {"model.processor": "transformer", "model.window_size": 0},
        {"model.attention_backend": "cuda"},
    ]
    messages = []
    for case in cases:
        with pytest.raises(ValueError) as raised:
            build_model(make_plan(**{**base, **case}), GRAPH)
        messages.append(str(raised.value))
    graph = tiny_graph(grid=40, hidden=12)
    del graph["hidden", "to", "data"]
    with pytest.raises(ValueError) as raised:
        build_model(make_plan(**base), graph)
    messages.append(str(raised.value))
    with pytest.raises(ValueError) as raised:
        build_model(make_plan(**base), GRAPH)(torch.zeros(1, 2, 1, 41, 10))
    messages.append(str(raised.value))
    return messages


def test_model_build_errors_match_golden_text():
    assert_golden("\n".join(_messages()) + "\n", GOLDEN)
