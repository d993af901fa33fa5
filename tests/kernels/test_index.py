"""The CSC index: offsets, by-source view, validation messages, sharding bookkeeping."""

from __future__ import annotations

import pytest
import torch

from anemoic.kernels import build_csc_index
from tests.kernels.graphs import random_graph


def test_offsets_and_reverse_view_describe_the_same_edges() -> None:
    edges = random_graph(num_src=9, num_dst=12, max_degree=5, seed=1)
    index = build_csc_index(edges, 9, 12)
    assert index.colptr[-1] == edges.shape[1]
    for dst in range(12):
        incoming = edges[0, index.colptr[dst] : index.colptr[dst + 1]]
        assert torch.equal(incoming, edges[0][edges[1] == dst])
    for src in range(9):
        positions = index.rev_perm[index.rev_ptr[src] : index.rev_ptr[src + 1]]
        assert torch.equal(positions, torch.nonzero(edges[0] == src).flatten())
        assert torch.equal(index.rev_dst[index.rev_ptr[src] : index.rev_ptr[src + 1]], edges[1, positions])
    assert index.max_in_degree == 64
    assert index.max_out_degree == int(torch.bincount(edges[0]).max())


def test_unsorted_edges_are_refused() -> None:
    edges = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="sorted by destination"):
        build_csc_index(edges, 2, 2)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        (torch.tensor([[0, 3], [0, 1]]), r"source ids must lie in \[0, 3\)"),
        (torch.tensor([[0, 1], [0, 5]]), r"destination ids must lie in \[0, 2\)"),
        (torch.zeros(3, 2, dtype=torch.int64), r"shape \(2, E\)"),
        (torch.zeros(2, 2), "integers"),
    ],
)
def test_malformed_edges_are_refused(edges: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_csc_index(edges, 3, 2)


def test_empty_graph_has_zero_offsets() -> None:
    index = build_csc_index(torch.zeros(2, 0, dtype=torch.int64), 3, 4)
    assert index.colptr.tolist() == [0, 0, 0, 0, 0]
    assert index.rev_ptr.tolist() == [0, 0, 0, 0]
    assert index.max_in_degree == 0


def test_shard_keeps_incoming_edges_and_needed_sources() -> None:
    edges = random_graph(num_src=20, num_dst=15, max_degree=4, seed=2, hubs=0)
    index = build_csc_index(edges, 20, 15)
    local, src_ids = index.shard(4, 11)
    start, end = index.edge_range(4, 11)
    assert local.num_dst == 7 and local.num_edges == end - start
    assert torch.equal(src_ids[local.src], edges[0, start:end])
    assert torch.equal(local.dst + 4, edges[1, start:end])
    assert torch.equal(src_ids, torch.unique(edges[0, start:end]))


def test_shard_range_is_checked() -> None:
    index = build_csc_index(torch.tensor([[0], [0]]), 1, 2)
    with pytest.raises(ValueError, match=r"outside the 2 destination nodes"):
        index.shard(1, 3)


def test_to_moves_every_tensor() -> None:
    index = build_csc_index(torch.tensor([[0, 1], [0, 0]]), 2, 1).to("meta")
    assert all(t.device.type == "meta" for t in (index.colptr, index.src, index.dst, index.rev_ptr, index.rev_perm))
    assert index.num_src == 2 and index.max_in_degree == 2
