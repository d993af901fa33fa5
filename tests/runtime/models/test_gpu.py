"""On a CUDA GPU: the model with the Triton attention kernel matches the PyTorch reference."""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.models import build_model
from tests.factories import make_plan
from tests.runtime.models.tiny_graph import tiny_graph

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("dtype,tolerance", [(torch.float32, 2e-4), (torch.bfloat16, 3e-2)])
def test_triton_backend_matches_reference_in_outputs_and_gradients(dtype, tolerance):
    graph = tiny_graph(grid=300, hidden=60, seed=1)
    overrides = {"model.channels": 64, "model.heads": 4, "model.qk_norm": True}
    torch.manual_seed(0)
    reference = build_model(make_plan(**overrides, **{"model.attention_backend": "reference"}), graph).cuda()
    triton = build_model(make_plan(**overrides, **{"model.attention_backend": "triton"}), graph).cuda()
    triton.load_state_dict(reference.state_dict())
    x = torch.randn(2, 2, 1, 300, 10, device="cuda")
    outputs = []
    for model in (reference, triton):
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
            out = model(x)
        out.float().square().mean().backward()
        outputs.append(out.float())
    torch.testing.assert_close(outputs[1], outputs[0], atol=tolerance, rtol=tolerance)
    for (name, p), q in zip(reference.named_parameters(), triton.parameters()):
        scale = p.grad.abs().max().clamp(min=1e-6)
        torch.testing.assert_close(q.grad / scale, p.grad / scale, atol=tolerance * 10, rtol=0, msg=name)
