"""The fused Triton kernels against the float64 reference (CPU: triton's interpreter, GPU: compiled)."""

from __future__ import annotations

import pytest
import torch

from anemoic.kernels import build_csc_index, graph_attention
from tests.kernels.graphs import local_graph, random_graph, random_inputs
from tests.kernels.parity import DEVICE, assert_matches_oracle


@pytest.mark.parametrize(
    ("heads", "channels", "dtype"),
    [
        (3, 5, torch.float64),  # odd heads and channels: padded and masked
        (2, 8, torch.float32),
        (5, 3, torch.float32),
        (4, 16, torch.bfloat16),
        (1, 7, torch.float16),
    ],
)
def test_random_graph_with_hub_and_isolated_nodes(heads: int, channels: int, dtype: torch.dtype) -> None:
    edges = random_graph(num_src=11, num_dst=9, max_degree=5, seed=heads * channels)
    index = build_csc_index(edges, 11, 9).to(DEVICE)
    inputs = random_inputs((11, 9, edges.shape[1]), heads, channels, dtype, DEVICE, seed=1)
    assert_matches_oracle(inputs, index)


def test_mesh_like_graph_with_more_sources_than_destinations() -> None:
    edges = local_graph(num_src=24, num_dst=6, neighbours=7)
    index = build_csc_index(edges, 24, 6).to(DEVICE)
    assert_matches_oracle(random_inputs((24, 6, edges.shape[1]), 2, 4, torch.float32, DEVICE, seed=2), index)


def test_isolated_destinations_get_zero_output_and_zero_gradient() -> None:
    edges = torch.tensor([[0, 1], [1, 1]])
    index = build_csc_index(edges, 3, 3).to(DEVICE)
    q, k, v, e = (t.requires_grad_() for t in random_inputs((3, 3, 2), 2, 4, torch.float32, DEVICE, seed=3))
    out = graph_attention(q, k, v, e, index, backend="triton")
    out.sum().backward()
    assert torch.count_nonzero(out[0]) == 0 and torch.count_nonzero(out[2]) == 0
    assert torch.count_nonzero(q.grad[0]) == 0 and torch.count_nonzero(k.grad[2]) == 0


def test_backward_is_deterministic() -> None:
    edges = random_graph(num_src=10, num_dst=8, max_degree=6, seed=4, hubs=0)
    index = build_csc_index(edges, 10, 8).to(DEVICE)
    inputs = random_inputs((10, 8, edges.shape[1]), 2, 8, torch.float32, DEVICE, seed=5)
    grads = []
    for _ in range(2):
        leaves = [t.clone().requires_grad_() for t in inputs]
        graph_attention(*leaves, index, backend="triton").square().sum().backward()
        grads.append([t.grad for t in leaves])
    for first, second in zip(*grads):
        assert torch.equal(first, second)


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(("num_src", "num_dst", "neighbours"), [(4000, 1000, 6), (1000, 1000, 8), (1000, 4000, 3)])
def test_real_shaped_graphs_on_gpu(num_src: int, num_dst: int, neighbours: int, dtype: torch.dtype) -> None:
    edges = local_graph(num_src, num_dst, neighbours)
    index = build_csc_index(edges, num_src, num_dst).to("cuda")
    assert_matches_oracle(random_inputs((num_src, num_dst, edges.shape[1]), 16, 64, dtype, "cuda", seed=6), index)


@pytest.mark.gpu
def test_degree_64_hubs_and_odd_shapes_on_gpu() -> None:
    edges = random_graph(num_src=300, num_dst=200, max_degree=40, seed=7, hubs=10)
    index = build_csc_index(edges, 300, 200).to("cuda")
    assert_matches_oracle(random_inputs((300, 200, edges.shape[1]), 6, 24, torch.float32, "cuda", seed=8), index)


@pytest.mark.parametrize(
    "tiles",
    [
        {"block_e": 4, "block_h": 4, "block_c": 8, "num_warps": 2},
        {"block_e": 2, "block_h": 2, "block_c": 8, "num_warps": 1, "prefetch": False,
         "reuse_policy": "evict_last", "stream_policy": "evict_first"},
        {"block_e": 1, "block_h": 4, "block_c": 8, "num_warps": 2, "pair": True},
        {"block_e": 1, "block_h": 8, "block_c": 8, "num_warps": 1, "pair": True, "num_stages": 2},
    ],
)
def test_edge_and_head_blocks_compute_the_same_function(tiles: dict) -> None:
    """Non-default tiles (several edges per iteration or edge pairs with a masked tail, heads split over programs)."""
    from anemoic.kernels import launch

    edges = random_graph(num_src=9, num_dst=7, max_degree=6, seed=13, hubs=0)
    index = build_csc_index(edges, 9, 7).to(DEVICE)
    q, k, v, e = random_inputs((9, 7, edges.shape[1]), 6, 8, torch.float32, DEVICE, seed=14)
    grad = torch.randn_like(q)
    rev = (index.rev_ptr, index.rev_perm, index.rev_dst)
    tiles = launch.TileConfig(**tiles)
    out, lse = launch.forward(q, k, v, e, index.colptr, index.src)
    tiled_out, tiled_lse = launch.forward(q, k, v, e, index.colptr, index.src, tiles)
    dq, de, alpha, d_score = launch.backward_dst(grad, q, k, v, e, out, lse, index.colptr, index.src)
    tiled_dst = launch.backward_dst(grad, q, k, v, e, out, lse, index.colptr, index.src, tiles)
    dk, dv = launch.backward_src(grad, q, k, alpha, d_score, *rev)
    tiled_src = launch.backward_src(grad, q, k, alpha, d_score, *rev, tiles)
    for want, got in zip((out, lse, dq, de, alpha, d_score, dk, dv), (tiled_out, tiled_lse, *tiled_dst, *tiled_src)):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
