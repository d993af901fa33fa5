"""Sharded use: destination shards with their source halo, and head subsets, equal the whole."""

from __future__ import annotations

import torch

from anemoic.kernels import build_csc_index, graph_attention
from tests.kernels.graphs import random_graph, random_inputs
from tests.kernels.parity import DEVICE


def _whole_and_index(num_src: int, num_dst: int):  # noqa: ANN202
    edges = random_graph(num_src=num_src, num_dst=num_dst, max_degree=5, seed=21, hubs=0)
    index = build_csc_index(edges, num_src, num_dst).to(DEVICE)
    inputs = random_inputs((num_src, num_dst, edges.shape[1]), 4, 6, torch.float32, DEVICE, seed=22)
    return inputs, index


def test_destination_shards_with_halo_equal_the_unsharded_result() -> None:
    (q, k, v, e), index = _whole_and_index(13, 11)
    whole = graph_attention(q, k, v, e, index, backend="triton")
    parts = []
    for start, end in ((0, 4), (4, 4), (4, 9), (9, 11)):
        local, src_ids = index.shard(start, end)
        edge_start, edge_end = index.edge_range(start, end)
        parts.append(
            graph_attention(q[start:end], k[src_ids], v[src_ids], e[edge_start:edge_end], local, backend="triton")
        )
    torch.testing.assert_close(torch.cat(parts), whole, rtol=1e-6, atol=1e-6)


def test_shard_gradients_add_up_to_the_unsharded_gradients() -> None:
    inputs, index = _whole_and_index(9, 8)
    whole = [t.clone().requires_grad_() for t in inputs]
    graph_attention(*whole, index, backend="triton").sum().backward()
    sharded = [t.clone().requires_grad_() for t in inputs]
    q, k, v, e = sharded
    for start, end in ((0, 3), (3, 8)):
        local, src_ids = index.shard(start, end)
        edge_start, edge_end = index.edge_range(start, end)
        out = graph_attention(q[start:end], k[src_ids], v[src_ids], e[edge_start:edge_end], local, backend="triton")
        out.sum().backward()
    for want, got in zip(whole, sharded):
        torch.testing.assert_close(got.grad, want.grad, rtol=1e-5, atol=1e-5)


def test_head_subsets_equal_the_matching_heads_of_the_whole() -> None:
    (q, k, v, e), index = _whole_and_index(10, 7)
    whole = graph_attention(q, k, v, e, index, backend="triton")
    for heads in (slice(0, 1), slice(1, 4)):
        part = graph_attention(q[:, heads], k[:, heads], v[:, heads], e[:, heads], index, backend="triton")
        torch.testing.assert_close(part, whole[:, heads], rtol=1e-6, atol=1e-6)
