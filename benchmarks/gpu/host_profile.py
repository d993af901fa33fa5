"""Where the host time of one eager fwd+bwd call goes (device helper): cProfile over repeated steps.

    PYTHONPATH=. python benchmarks/gpu/host_profile.py
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_graphs import O96_LEVEL5, build_edges  # noqa: E402

from anemoic.kernels import build_csc_index, fast_launch, graph_attention  # noqa: E402


def main() -> None:
    spec = O96_LEVEL5[1]
    edges = build_edges(spec, torch.device("cuda"))
    index = build_csc_index(edges, spec.num_src, spec.num_dst)
    sizes = (spec.num_dst, spec.num_src, spec.num_src, spec.num_edges)
    tensors = [torch.randn(n, 16, 64, device="cuda", dtype=torch.bfloat16, requires_grad=True) for n in sizes]
    grad = torch.randn_like(tensors[0])

    def step() -> None:
        torch.autograd.grad(graph_attention(*tensors, index, backend="triton"), tensors, grad)

    def forward_only() -> None:
        with torch.no_grad():
            graph_attention(*tensors, index, backend="triton")

    for fast in (False, True, False, True):  # twice each, alternating, so drift shows
        fast_launch.ENABLED = fast
        for name, call in (("fwd+bwd", step), ("fwd no-grad", forward_only)):
            for _ in range(20):
                call()
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(200):
                call()
                torch.cuda.synchronize()
            synced = (time.perf_counter() - start) / 200 * 1e3
            start = time.perf_counter()
            for _ in range(200):
                call()
            issued = (time.perf_counter() - start) / 200 * 1e3
            torch.cuda.synchronize()
            print(f"fast launch {fast!s:5}  {name}: {synced:.3f} ms per call incl. sync, {issued:.3f} ms to issue")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(200):
        step()
        torch.cuda.synchronize()
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
