"""Sweep tile shapes of the three Triton passes on the benchmark graphs (device helper, not a test).

Times each pass alone with triton.testing.do_bench (median) and prints the best shapes next to the default choice of
``anemoic.kernels.launch.tile_config``.

    PYTHONPATH=. python benchmarks/gpu/sweep_tiles.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import torch
import triton.testing

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_graphs import O96_LEVEL5, build_edges  # noqa: E402

from anemoic.kernels import build_csc_index, launch  # noqa: E402

HEADS, CHANNELS = 16, 64


def candidates() -> list[launch.TileConfig]:
    """Around the default (one edge, 16 heads, 4 warps): edge pairs, warps, software-pipelining stages, hints."""
    hints = {"reuse_policy": "evict_last", "stream_policy": "evict_first"}
    configs = []
    for pair, warps in itertools.product((False, True), (4, 8)):
        configs.append(launch.TileConfig(1, HEADS, CHANNELS, warps, pair=pair))
        configs.append(launch.TileConfig(1, HEADS, CHANNELS, warps, num_stages=2, pair=pair))
    configs.append(launch.TileConfig(1, HEADS, CHANNELS, 4, pair=True, **hints))
    configs.append(launch.TileConfig(1, 8, CHANNELS, 2, pair=True))
    return configs


def sweep_graph(spec) -> None:  # noqa: ANN001
    edges = build_edges(spec, torch.device("cuda"))
    index = build_csc_index(edges, spec.num_src, spec.num_dst)
    gen = torch.Generator(device="cuda").manual_seed(0)
    shape = (HEADS, CHANNELS)
    q, k, v, e = (torch.randn(n, *shape, device="cuda", generator=gen, dtype=torch.bfloat16)
                  for n in (spec.num_dst, spec.num_src, spec.num_src, spec.num_edges))  # fmt: skip
    grad = torch.randn_like(q)
    out, lse = launch.forward(q, k, v, e, index.colptr, index.src)
    _, _, alpha, d_score = launch.backward_dst(grad, q, k, v, e, out, lse, index.colptr, index.src)
    rev = (index.rev_ptr, index.rev_perm, index.rev_dst)

    def run(pass_name: str, config: launch.TileConfig | None) -> float:
        """Median ms of one pass alone."""
        if pass_name == "fwd":
            call = lambda: launch.forward(q, k, v, e, index.colptr, index.src, config)  # noqa: E731
        elif pass_name == "dst":
            call = lambda: launch.backward_dst(grad, q, k, v, e, out, lse, index.colptr, index.src, config)  # noqa: E731
        else:
            call = lambda: launch.backward_src(grad, q, k, alpha, d_score, *rev, config)  # noqa: E731
        return triton.testing.do_bench(call, warmup=25, rep=100, return_mode="median")

    print(f"\n{spec.name}")
    for pass_name in ("fwd", "dst", "src"):
        default = run(pass_name, None)
        results = []
        for config in candidates():
            try:
                results.append((run(pass_name, config), config))
            except Exception as error:  # noqa: BLE001  (out of resources for one shape: skip it)
                print(f"  {pass_name} {config} failed: {type(error).__name__}")
        results.sort(key=lambda item: item[0])
        print(f"  {pass_name}: default tiles (launch.tile_config for this graph) {default:.4f} ms")
        for elapsed, config in results[:5]:
            print(f"    {elapsed:.4f} ms  pair={config.pair} h={config.block_h} w={config.num_warps} "
                  f"stages={config.num_stages} hints={config.reuse_policy or '-'}/{config.stream_policy or '-'}")


def main() -> None:
    for spec in O96_LEVEL5:
        sweep_graph(spec)


if __name__ == "__main__":
    main()
