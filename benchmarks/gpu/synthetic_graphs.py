"""Encoder / processor / decoder edge sets of Anemoi's sizes with mesh-like locality, built on the GPU.

Nodes are Fibonacci-sphere points ordered by latitude (like a reduced Gaussian grid's rows), edges are
nearest neighbours with a per-destination in-degree drawn around the mean, so that the edge count is
exactly the one Anemoi's graph builder produces for that set. Sorted by destination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class EdgeSetSpec:
    name: str
    num_src: int
    num_dst: int
    num_edges: int
    same_nodes: bool  # processor: sources and destinations are one node set (no self loops)


O96_LEVEL5 = (
    EdgeSetSpec("o96 era_to_h", 40_320, 10_242, 62_980, False),
    EdgeSetSpec("o96 h_to_h", 10_242, 10_242, 81_840, True),
    EdgeSetSpec("o96 h_to_era", 10_242, 40_320, 120_960, False),
)
N320_LEVEL6 = (
    EdgeSetSpec("n320 era_to_h", 542_080, 40_962, 852_824, False),
    EdgeSetSpec("n320 h_to_h", 40_962, 40_962, 327_600, True),
    EdgeSetSpec("n320 h_to_era", 40_962, 542_080, 1_626_240, False),
)


def fibonacci_sphere(count: int, device: torch.device) -> Tensor:
    """(count, 3) unit vectors, quasi-uniform, ordered from north to south."""
    i = torch.arange(count, device=device, dtype=torch.float64) + 0.5
    z = 1.0 - 2.0 * i / count
    radius = torch.sqrt(1.0 - z * z)
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    return torch.stack([radius * torch.cos(phi), radius * torch.sin(phi), z], dim=1).float()


def in_degrees(spec: EdgeSetSpec, generator: torch.Generator) -> Tensor:
    """Per-destination in-degree, within +-30% of the mean, summing exactly to the edge count."""
    mean = spec.num_edges / spec.num_dst
    weights = 0.7 + 0.6 * torch.rand(spec.num_dst, generator=generator, dtype=torch.float64)
    degree = torch.clamp(torch.round(weights * mean), min=1).to(torch.int64)
    surplus = int(degree.sum()) - spec.num_edges
    while surplus != 0:
        step = 1 if surplus < 0 else -1
        candidates = torch.nonzero(degree > 1).flatten() if step < 0 else torch.arange(spec.num_dst)
        pick = candidates[torch.randperm(candidates.numel(), generator=generator)[: abs(surplus)]]
        degree[pick] += step
        surplus = int(degree.sum()) - spec.num_edges
    return degree


def build_edges(spec: EdgeSetSpec, device: torch.device, seed: int = 0, chunk_elements: int = 2**29) -> Tensor:
    """(2, E) int64 edges on `device`, sorted by destination."""
    generator = torch.Generator().manual_seed(seed)
    degree = in_degrees(spec, generator).to(device)
    src_xyz = fibonacci_sphere(spec.num_src, device)
    dst_xyz = src_xyz if spec.same_nodes else fibonacci_sphere(spec.num_dst, device)
    skip = 1 if spec.same_nodes else 0
    k_max = int(degree.max()) + skip
    rows = max(1, chunk_elements // spec.num_src)
    neighbours = []
    for start in range(0, spec.num_dst, rows):
        similarity = dst_xyz[start : start + rows] @ src_xyz.T  # nearest = largest dot product
        neighbours.append(torch.topk(similarity, k_max, dim=1).indices[:, skip:])
    nearest = torch.cat(neighbours)
    keep = torch.arange(k_max - skip, device=device)[None, :] < degree[:, None]
    src = nearest[keep]
    dst = torch.arange(spec.num_dst, device=device).repeat_interleave(degree)
    return torch.stack([src, dst])
