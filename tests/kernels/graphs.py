"""Small destination-sorted test graphs with the degree patterns the kernel must handle."""

from __future__ import annotations

import torch
from torch import Tensor


def random_graph(num_src: int, num_dst: int, max_degree: int, seed: int, *, hubs: int = 1) -> Tensor:
    """(2, E) edges sorted by destination: random in-degrees in [0, max_degree], the first `hubs`
    destinations get exactly 64 incoming edges and the last destination none."""
    generator = torch.Generator().manual_seed(seed)
    degree = torch.randint(0, max_degree + 1, (num_dst,), generator=generator)
    degree[:hubs] = 64
    degree[-1] = 0
    dst = torch.repeat_interleave(torch.arange(num_dst), degree)
    src = torch.randint(0, num_src, (int(degree.sum()),), generator=generator)
    return torch.stack([src, dst])


def local_graph(num_src: int, num_dst: int, neighbours: int) -> Tensor:
    """Mesh-like graph: each destination sees `neighbours` sources near its own position."""
    dst = torch.arange(num_dst).repeat_interleave(neighbours)
    centre = (torch.arange(num_dst) * num_src) // max(num_dst, 1)
    offsets = torch.arange(neighbours) - neighbours // 2
    src = (centre[:, None] + offsets[None, :]).remainder(num_src).reshape(-1)
    return torch.stack([src, dst])


def random_inputs(index_sizes: tuple[int, int, int], heads: int, channels: int, dtype: torch.dtype,
                  device: str, seed: int) -> list[Tensor]:  # fmt: skip
    """q, k, v, e for (num_src, num_dst, num_edges)."""
    num_src, num_dst, num_edges = index_sizes
    generator = torch.Generator().manual_seed(seed)
    shapes = (num_dst, num_src, num_src, num_edges)
    return [torch.randn(n, heads, channels, generator=generator, dtype=torch.float64).to(device, dtype) for n in shapes]
