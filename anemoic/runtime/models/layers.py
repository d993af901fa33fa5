"""Layer kernels: the norm, activation and feed-forward choices every block shares.

One small factory per choice so that a plan string ("rmsnorm", "swiglu") maps to exactly one
torch module, and every block of a model is built from the same :class:`LayerKernels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

NORMS = ("layernorm", "rmsnorm")
ACTIVATIONS = ("gelu", "silu", "relu", "swiglu", "geglu")
_GLU_GATES = {"swiglu": "silu", "geglu": "gelu"}


@dataclass(frozen=True)
class LayerKernels:
    """The configurable pieces of every block (from ``ModelPlan``)."""

    norm: str = "layernorm"
    activation: str = "gelu"
    qk_norm: bool = False
    mlp_hidden_ratio: int = 4

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ValueError(f"unknown norm {self.norm!r}; choose one of {', '.join(NORMS)}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.mlp_hidden_ratio < 1:
            raise ValueError(f"mlp_hidden_ratio must be at least 1, got {self.mlp_hidden_ratio}")

    def make_norm(self, channels: int) -> nn.Module:
        if self.norm == "rmsnorm":
            return nn.RMSNorm(channels)
        return nn.LayerNorm(channels)

    def make_mlp(self, in_channels: int, out_channels: int, hidden: int | None = None) -> nn.Module:
        """Two-layer perceptron; GLU activations gate the hidden layer."""
        hidden = hidden if hidden is not None else self.mlp_hidden_ratio * out_channels
        if self.activation in _GLU_GATES:
            return GatedMLP(in_channels, hidden, out_channels, _GLU_GATES[self.activation])
        return nn.Sequential(
            nn.Linear(in_channels, hidden), make_activation(self.activation), nn.Linear(hidden, out_channels)
        )


def make_activation(name: str) -> nn.Module:
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    if name == "relu":
        return nn.ReLU()
    raise ValueError(f"{name!r} is not a plain activation; choose gelu, silu or relu")


class GatedMLP(nn.Module):
    """GLU feed-forward (SwiGLU / GeGLU): out = W2 (act(W_gate x) * W_value x)."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, gate: str) -> None:
        super().__init__()
        self.proj_in = nn.Linear(in_channels, 2 * hidden)
        self.gate = make_activation(gate)
        self.proj_out = nn.Linear(hidden, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        gate, value = self.proj_in(x).chunk(2, dim=-1)
        return self.proj_out(self.gate(gate) * value)


class QKNorm(nn.Module):
    """Normalise queries or keys per head (over the head channels) to keep attention logits tame."""

    def __init__(self, kernels: LayerKernels, head_channels: int) -> None:
        super().__init__()
        self.norm: nn.Module = kernels.make_norm(head_channels) if kernels.qk_norm else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x)


def sincos_position(latlon: Tensor) -> Tensor:
    """(N, 2) radians -> (N, 4) [sin lat, sin lon, cos lat, cos lon]: a continuous position encoding."""
    return torch.cat([torch.sin(latlon), torch.cos(latlon)], dim=-1)
