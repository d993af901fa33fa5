"""Noise that makes the members of an ensemble differ, applied to the hidden latent after the encoder.

For each folded row (batch x member) and hidden node, ``channels`` values are drawn from N(0, std²)
with the generator the caller passes (a seeded ``torch.Generator``: the same stream draws the same
noise, so runs and forecasts are reproducible), passed through an MLP, then either

* ``inject`` (anemoi's NoiseInjector): concatenated to the latent and projected back to ``channels``
  channels, ``x <- W [x, z]``; or
* ``condition`` (anemoi's NoiseConditioning): a layer norm of the latent whose scale and shift come from
  the noise, ``x <- norm(x) (1 + s(z)) + b(z)``, with s and b zero at initialisation.  Anemoi conditions
  the norms of every processor block; here one norm at the processor's entry conditions the latent
  every block then sees, so the processor blocks stay the same modules for every method.

Noise is drawn on the hidden mesh, which is coarser than the data grid, so the decoder spreads each
perturbation over neighbouring grid points: members differ by spatially coherent patterns.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from anemoic.plan.kinds import NoiseKind
from anemoic.plan.model import NoisePlan
from anemoic.runtime.models.layers import LayerKernels
from anemoic.runtime.registry import pick


class LatentNoise(nn.Module):
    """Draws the noise of ``rows`` folded samples and maps it through an MLP; subclasses apply it."""

    def __init__(self, plan: NoisePlan, channels: int, hidden_nodes: int, kernels: LayerKernels) -> None:
        super().__init__()
        if plan.channels < 1 or plan.hidden < 1 or plan.std <= 0:
            raise ValueError(f"noise needs channels, hidden >= 1 and std > 0, got {plan}")
        self.plan = plan
        self.hidden_nodes = hidden_nodes
        self.mlp = kernels.make_mlp(plan.channels, plan.channels, plan.hidden)

    def draw(self, like: Tensor, generator: torch.Generator | None, nodes: slice = slice(None)) -> Tensor:
        """(rows, hidden nodes, noise channels) for a latent ``like`` (rows, hidden nodes, channels); drawn on the
        CPU when the generator is a CPU generator (the default), so a seed means the same noise on any device.
        The whole mesh's noise is drawn and ``nodes`` kept: a model-group rank holding a range of hidden nodes
        gets exactly the noise those nodes get unsharded."""
        shape = (like.shape[0], self.hidden_nodes, self.plan.channels)
        device = generator.device if generator is not None else like.device
        noise = torch.randn(shape, generator=generator, device=device, dtype=torch.float32)[:, nodes] * self.plan.std
        return self.mlp(noise.to(device=like.device, dtype=like.dtype))

    def forward(self, x: Tensor, generator: torch.Generator | None = None, nodes: slice = slice(None)) -> Tensor:
        raise NotImplementedError


class NoiseInjector(LatentNoise):
    """x <- W [x, z]: the noise concatenated to the latent, projected back to its width."""

    def __init__(self, plan: NoisePlan, channels: int, hidden_nodes: int, kernels: LayerKernels) -> None:
        super().__init__(plan, channels, hidden_nodes, kernels)
        self.projection = nn.Linear(channels + plan.channels, channels)

    def forward(self, x: Tensor, generator: torch.Generator | None = None, nodes: slice = slice(None)) -> Tensor:
        return self.projection(torch.cat([x, self.draw(x, generator, nodes)], dim=-1))


class NoiseConditioning(LatentNoise):
    """x <- norm(x) (1 + s(z)) + b(z): a layer norm conditioned on the noise (s, b start at zero)."""

    def __init__(self, plan: NoisePlan, channels: int, hidden_nodes: int, kernels: LayerKernels) -> None:
        super().__init__(plan, channels, hidden_nodes, kernels)
        self.norm = kernels.make_norm(channels)
        self.modulation = nn.Linear(plan.channels, 2 * channels)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: Tensor, generator: torch.Generator | None = None, nodes: slice = slice(None)) -> Tensor:
        scale, shift = self.modulation(self.draw(x, generator, nodes)).chunk(2, dim=-1)
        return self.norm(x) * (1 + scale) + shift


NOISE_BUILDERS: dict[NoiseKind, Callable[[NoisePlan, int, int, LayerKernels], LatentNoise]] = {
    "inject": NoiseInjector, "condition": NoiseConditioning,
}
"""The noise module of each kind: ``(plan, latent channels, hidden nodes, kernels) -> module``."""


def build_noise(plan: NoisePlan | None, channels: int, hidden_nodes: int, kernels: LayerKernels) -> LatentNoise | None:
    """The ensemble's noise module, or None for a method without noise."""
    if plan is None:
        return None
    return pick(NOISE_BUILDERS, plan.kind, "noise")(plan, channels, hidden_nodes, kernels)
