"""A tiny hand-built HeteroData with exactly the attributes of docs/contracts.md "Graph attributes".

Random points on the sphere, k-nearest-neighbour edges sorted by destination, unit-sum area weights.
Kept independent of the graph builder so model tests exercise only the model.
"""

from __future__ import annotations

import torch
from torch_geometric.data import HeteroData


def random_latlon(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2) [lat, lon] radians, roughly uniform on the sphere."""
    lat = torch.asin(2 * torch.rand(n, generator=generator, dtype=torch.float64) - 1)
    lon = 2 * torch.pi * torch.rand(n, generator=generator, dtype=torch.float64) - torch.pi
    return torch.stack([lat, lon], dim=1).float()


def _xyz(latlon: torch.Tensor) -> torch.Tensor:
    lat, lon = latlon[:, 0], latlon[:, 1]
    return torch.stack([torch.cos(lat) * torch.cos(lon), torch.cos(lat) * torch.sin(lon), torch.sin(lat)], dim=1)


def knn_edges(src_latlon: torch.Tensor, dst_latlon: torch.Tensor, k: int, generator: torch.Generator,
              exclude_self: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Each destination's k nearest sources; (2, E) sorted by destination and random (E, 3) attributes."""
    dist = torch.cdist(_xyz(dst_latlon), _xyz(src_latlon))
    if exclude_self:
        dist.fill_diagonal_(float("inf"))
    nearest = dist.topk(k, dim=1, largest=False).indices  # (N_dst, k)
    dst = torch.arange(dst_latlon.shape[0]).repeat_interleave(k)
    edge_index = torch.stack([nearest.reshape(-1), dst])
    edge_attr = torch.rand(edge_index.shape[1], 3, generator=generator)
    return edge_index, edge_attr


def tiny_graph(grid: int = 40, hidden: int = 12, seed: int = 0) -> HeteroData:
    g = torch.Generator().manual_seed(seed)
    graph = HeteroData()
    graph["data"].x = random_latlon(grid, g)
    graph["hidden"].x = random_latlon(hidden, g)
    weights = torch.rand(grid, generator=g) + 0.5
    graph["data"].area_weight = weights / weights.sum()
    for relation, src, dst, k in (
        (("data", "to", "hidden"), "data", "hidden", 4),
        (("hidden", "to", "hidden"), "hidden", "hidden", 3),
        (("hidden", "to", "data"), "hidden", "data", 3),
    ):
        edge_index, edge_attr = knn_edges(graph[src].x, graph[dst].x, k, g, exclude_self=src == dst)
        graph[relation].edge_index = edge_index
        graph[relation].edge_attr = edge_attr
    return graph
