"""Layer kernels: the norm, activation and feed-forward choices every block shares.

One small factory per choice so that a plan string ("rmsnorm", "swiglu") maps to exactly one
torch module, and every block of a model is built from the same :class:`LayerKernels`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from anemoic.plan.kinds import Activation, Norm
from anemoic.runtime.registry import pick

NORM_BUILDERS: dict[Norm, Callable[[int], nn.Module]] = {"layernorm": nn.LayerNorm, "rmsnorm": nn.RMSNorm}


class GatedMLP(nn.Module):
    """GLU feed-forward (SwiGLU / GeGLU): out = W2 (act(W_gate x) * W_value x)."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, gate: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.proj_in = nn.Linear(in_channels, 2 * hidden)
        self.gate = gate()
        self.proj_out = nn.Linear(hidden, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        gate, value = self.proj_in(x).chunk(2, dim=-1)
        return self.proj_out(self.gate(gate) * value)


def _plain(activation: Callable[[], nn.Module]) -> Callable[[int, int, int], nn.Module]:
    def mlp(in_channels: int, hidden: int, out_channels: int) -> nn.Module:
        return nn.Sequential(nn.Linear(in_channels, hidden), activation(), nn.Linear(hidden, out_channels))
    return mlp


def _gated(gate: Callable[[], nn.Module]) -> Callable[[int, int, int], nn.Module]:
    def mlp(in_channels: int, hidden: int, out_channels: int) -> nn.Module:
        return GatedMLP(in_channels, hidden, out_channels, gate)
    return mlp


MLP_BUILDERS: dict[Activation, Callable[[int, int, int], nn.Module]] = {
    "gelu": _plain(nn.GELU), "silu": _plain(nn.SiLU), "relu": _plain(nn.ReLU),
    "swiglu": _gated(nn.SiLU), "geglu": _gated(nn.GELU),  # GLU variants gate the hidden layer
}
"""The two-layer perceptron of each activation: ``(in, hidden, out) -> module``."""


@dataclass(frozen=True)
class LayerKernels:
    """The configurable pieces of every block (from ``ModelPlan``)."""

    norm: Norm = "layernorm"
    activation: Activation = "gelu"
    qk_norm: bool = False
    mlp_hidden_ratio: int = 4

    def __post_init__(self) -> None:
        pick(NORM_BUILDERS, self.norm, "norm")
        pick(MLP_BUILDERS, self.activation, "activation")
        if self.mlp_hidden_ratio < 1:
            raise ValueError(f"mlp_hidden_ratio must be at least 1, got {self.mlp_hidden_ratio}")

    def make_norm(self, channels: int) -> nn.Module:
        return NORM_BUILDERS[self.norm](channels)

    def make_mlp(self, in_channels: int, out_channels: int, hidden: int | None = None) -> nn.Module:
        """Two-layer perceptron of ``hidden`` (default ``mlp_hidden_ratio x out_channels``) channels."""
        hidden = hidden if hidden is not None else self.mlp_hidden_ratio * out_channels
        return MLP_BUILDERS[self.activation](in_channels, hidden, out_channels)


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
