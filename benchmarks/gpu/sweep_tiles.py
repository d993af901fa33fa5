"""Sweep tile shapes of the three Triton passes on the benchmark graphs (device helper, not a test).

Times each pass alone with triton.testing.do_bench (median) and prints the best shapes next to the default choice of
``anemoic.kernels.launch.tile_config``, then the default fwd+bwd sequence and, for scale, the device-to-device copy
bandwidth of this GPU (bytes read plus written), the practical ceiling of a memory-bound kernel.

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
HINTS = {"reuse_policy": "evict_last", "stream_policy": "evict_first"}


def candidates() -> list[launch.TileConfig]:
    """Around the default (16 heads, 4 warps): edge pairs, 8 warps, cache hints, two pipelining stages."""
    configs = [launch.TileConfig(1, HEADS, CHANNELS, warps, pair=pair, **(HINTS if hinted else {}))
               for pair, warps, hinted in itertools.product((False, True), (4, 8), (False, True))]  # fmt: skip
    configs.append(launch.TileConfig(1, HEADS, CHANNELS, 4, num_stages=2, pair=True))
    configs.append(launch.TileConfig(1, 8, CHANNELS, 2, pair=True))
    return configs


def bench(call) -> float:  # noqa: ANN001
    return triton.testing.do_bench(call, warmup=25, rep=100, return_mode="median")


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
            return bench(lambda: launch.forward(q, k, v, e, index.colptr, index.src, config))
        if pass_name == "dst":
            return bench(lambda: launch.backward_dst(grad, q, k, v, e, out, lse, index.colptr, index.src, config))
        return bench(lambda: launch.backward_src(grad, q, k, alpha, d_score, *rev, config))

    print(f"\n{spec.name}", flush=True)
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
        for elapsed, config in results[:4]:
            print(f"    {elapsed:.4f} ms  pair={config.pair} h={config.block_h} w={config.num_warps} "
                  f"stages={config.num_stages} hints={config.reuse_policy or '-'}/{config.stream_policy or '-'}")
    both = bench(lambda: launch.backward(grad, q, k, v, e, out, lse, index.colptr, index.src, *rev))
    total = bench(lambda: (launch.forward(q, k, v, e, index.colptr, index.src),
                           launch.backward(grad, q, k, v, e, out, lse, index.colptr, index.src, *rev)))  # fmt: skip
    print(f"  default backward {both:.4f} ms, fwd+bwd {total:.4f} ms")


def copy_bandwidth() -> float:
    """TB/s of a 1 GiB device-to-device copy, counting bytes read and written."""
    source = torch.randn(2**29, device="cuda", dtype=torch.bfloat16)
    target = torch.empty_like(source)
    elapsed = bench(lambda: target.copy_(source))
    return 2 * source.numel() * source.element_size() / elapsed / 1e9


def main() -> None:
    for spec in O96_LEVEL5:
        sweep_graph(spec)
    print(f"\ndevice-to-device copy: {copy_bandwidth():.3f} TB/s (read + write)")


if __name__ == "__main__":
    main()
