"""Graph attention forward+backward on the GPU: this kernel against anemoi-models', PyG and the reference.

Every method runs in the same process on the same graphs and inputs (bf16, 16 heads x 64 channels):
wall time per fwd+bwd call with CUDA events (synchronised per call, so launch overhead shows; methods
take turns, in an order that flips every round, 30 rounds, median), GPU
kernel time summed with torch.profiler, and bandwidth over bytes = 2 B x H*C x (6 n_dst + 6 n_src + 3 E).
Ratios are against anemoi's kernel and compiled PyG measured in this run.

    PYTHONPATH=.:/tmp/site python benchmarks/graph_attention.py [--sets o96 n320] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent / "gpu"))
from synthetic_graphs import N320_LEVEL6, O96_LEVEL5, EdgeSetSpec, build_edges  # noqa: E402

from anemoic.kernels import build_csc_index, fast_launch, graph_attention  # noqa: E402
from anemoic.kernels.reference import reference_graph_attention  # noqa: E402

HEADS, CHANNELS = 16, 64
PEAK_BYTES_PER_S = 3.35e12
SETS = {"o96": O96_LEVEL5, "n320": N320_LEVEL6}
Step = Callable[[], None]


def bytes_moved(spec: EdgeSetSpec) -> int:
    return 2 * HEADS * CHANNELS * (6 * spec.num_dst + 6 * spec.num_src + 3 * spec.num_edges)


def make_inputs(spec: EdgeSetSpec) -> tuple[list[Tensor], Tensor]:
    generator = torch.Generator(device="cuda").manual_seed(1)
    sizes = (spec.num_dst, spec.num_src, spec.num_src, spec.num_edges)
    tensors = [
        torch.randn(n, HEADS, CHANNELS, device="cuda", generator=generator, dtype=torch.bfloat16).requires_grad_()
        for n in sizes
    ]
    grad_out = torch.randn(spec.num_dst, HEADS, CHANNELS, device="cuda", generator=generator, dtype=torch.bfloat16)
    return tensors, grad_out


def ours(fast: bool) -> Callable[..., Step]:
    """This kernel; ``fast`` False launches through triton's JIT dispatch instead of the cached compiled kernels."""

    def make(edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor], grad_out: Tensor) -> Step:
        index = build_csc_index(edges, spec.num_src, spec.num_dst)

        def step() -> None:
            fast_launch.ENABLED = fast
            torch.autograd.grad(graph_attention(*tensors, index, backend="triton"), tensors, grad_out)
            fast_launch.ENABLED = True

        return step

    return make


def reference(compiled: bool) -> Callable[..., Step]:
    def make(edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor], grad_out: Tensor) -> Step:
        index = build_csc_index(edges, spec.num_src, spec.num_dst)
        function = torch.compile(reference_graph_attention, dynamic=True) if compiled else reference_graph_attention

        def step() -> None:
            torch.autograd.grad(function(*tensors, index), tensors, grad_out)

        return step

    return make


def anemoi(rebuild_index: bool) -> Callable[..., Step]:
    def make(edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor], grad_out: Tensor) -> Step:
        from anemoi.models.triton.gt import graph_transformer_attention_conv
        from anemoi.models.triton.utils import edge_index_to_csc

        def index() -> tuple:
            csc, _, rev = edge_index_to_csc(edges, (spec.num_src, spec.num_dst), True, edges_are_dst_sorted=True)
            return csc, rev

        prebuilt = index()

        def step() -> None:
            csc, rev = index() if rebuild_index else prebuilt
            torch.autograd.grad(graph_transformer_attention_conv(*tensors, csc, rev), tensors, grad_out)

        return step

    return make


def pyg(compiled: bool) -> Callable[..., Step]:
    """TransformerConv with identity projections: keys and values are both the source features."""

    def make(edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor], grad_out: Tensor) -> Step:
        from torch_geometric.nn import TransformerConv

        width = HEADS * CHANNELS
        conv = TransformerConv((width, width), CHANNELS, heads=HEADS, edge_dim=width, root_weight=False)
        for name in ("lin_query", "lin_key", "lin_value", "lin_edge"):
            setattr(conv, name, torch.nn.Identity())
        conv = conv.cuda()
        module = torch.compile(conv, dynamic=True) if compiled else conv
        q, k, _, e = (t.reshape(t.shape[0], width) for t in tensors)
        leaves = [tensors[0], tensors[1], tensors[3]]
        flat_grad = grad_out.reshape(-1, width)

        def step() -> None:
            torch.autograd.grad(module((k, q), edges, e), leaves, flat_grad)

        return step

    return make


METHODS: dict[str, Callable[..., Step]] = {
    "anemoic triton": ours(fast=True),
    "anemoic triton, JIT launch": ours(fast=False),
    "anemoi-models triton": anemoi(rebuild_index=False),
    "anemoi-models triton + index/call": anemoi(rebuild_index=True),
    "PyG eager": pyg(compiled=False),
    "PyG compiled": pyg(compiled=True),
    "reference eager": reference(compiled=False),
    "reference compiled": reference(compiled=True),
}


def wall_ms(step: Step, reps: int) -> float:
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        step()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def kernel_ms(step: Step, reps: int) -> float:
    """GPU time of every kernel, memset and copy the step issues, per step."""
    activities = [torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as profile:
        for _ in range(reps):
            step()
        torch.cuda.synchronize()
    total_us = sum(event.self_device_time_total for event in profile.key_averages())
    return total_us / reps / 1e3


def host_ms(step: Step, reps: int) -> float:
    """CPU time to issue one step (no syncs in between): what makes small layers launch-bound."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        step()
    elapsed = time.perf_counter() - start
    torch.cuda.synchronize()
    return elapsed / reps * 1e3


def prepare(names: list[str], edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor], grad_out: Tensor) -> dict:
    """Steps that ran (compiled, autotuned, allocator warm); failures are reported and skipped."""
    steps = {}
    for name in names:
        try:
            step = METHODS[name](edges, spec, tensors, grad_out)
            for _ in range(3):
                step()
            steps[name] = step
        except (ImportError, RuntimeError) as error:  # OOM, missing wheel, compile failure: report, go on
            print(f"  {name:34s} failed: {type(error).__name__}: {str(error).splitlines()[0][:100]}", flush=True)
        torch.cuda.empty_cache()
    return steps


def interleaved_wall_ms(steps: dict[str, Step], rounds: int = 30) -> dict[str, float]:
    """Median wall time per method, methods taking turns so that host-side noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for round_number in range(rounds):  # the order flips every round: no method always follows the same one
        for name in names if round_number % 2 == 0 else reversed(names):
            samples[name].append(wall_ms(steps[name], 1))
    return {name: statistics.median(times) for name, times in samples.items()}


def check_against_anemoi(edges: Tensor, spec: EdgeSetSpec, tensors: list[Tensor]) -> float:
    """Relative L2 difference of the two kernels' outputs (bf16 rounding is ~4e-3)."""
    try:
        from anemoi.models.triton.gt import graph_transformer_attention_conv
        from anemoi.models.triton.utils import edge_index_to_csc
    except ImportError:
        return float("nan")
    csc, _, rev = edge_index_to_csc(edges, (spec.num_src, spec.num_dst), True, edges_are_dst_sorted=True)
    with torch.no_grad():
        theirs = graph_transformer_attention_conv(*tensors, csc, rev).float()
        mine = graph_attention(*tensors, build_csc_index(edges, spec.num_src, spec.num_dst)).float()
    return float((mine - theirs).norm() / theirs.norm())


def run_set(spec: EdgeSetSpec, methods: list[str]) -> list[dict]:
    edges = build_edges(spec, torch.device("cuda"))
    tensors, grad_out = make_inputs(spec)
    print(f"\n{spec.name}: {spec.num_src} -> {spec.num_dst} nodes, {spec.num_edges} edges; "
          f"rel. diff vs anemoi {check_against_anemoi(edges, spec, tensors):.2e}", flush=True)  # fmt: skip
    steps = prepare(methods, edges, spec, tensors, grad_out)
    walls = interleaved_wall_ms(steps)
    rows = []
    for name, step in steps.items():
        reps = int(min(25, max(5, 200.0 / max(walls[name], 1e-3))))
        kernel, host = kernel_ms(step, reps), host_ms(step, reps)
        gbps = bytes_moved(spec) / (kernel * 1e-3) / 1e9
        rows.append({"graph": spec.name, "method": name, "wall_ms": walls[name], "kernel_ms": kernel,
                     "host_ms": host, "gb_s": gbps})  # fmt: skip
        print(f"  {name:34s} wall {walls[name]:7.3f} ms  kernel {kernel:7.3f} ms  host {host:6.3f} ms  "
              f"{gbps:5.0f} GB/s ({100 * gbps * 1e9 / PEAK_BYTES_PER_S:4.1f}% of 3.35 TB/s)", flush=True)  # fmt: skip
    return rows


def ratio_table(rows: list[dict]) -> str:
    """Markdown table; ratios are baseline time / this method's time (above 1: this method is faster)."""
    lines = [
        "| graph | method | wall ms | kernel ms | host ms | GB/s | % of 3.35 TB/s | wall vs anemoi "
        "| wall vs anemoi + index/call | kernel vs anemoi | wall vs compiled PyG |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for graph in dict.fromkeys(row["graph"] for row in rows):
        by_method = {row["method"]: row for row in rows if row["graph"] == graph}

        def ratio(baseline: str, key: str, row: dict) -> str:
            base = by_method.get(baseline)
            return f"{base[key] / row[key]:.2f}x" if base else "-"

        for method, row in by_method.items():
            lines.append(
                f"| {graph} | {method} | {row['wall_ms']:.3f} | {row['kernel_ms']:.3f} | {row['host_ms']:.3f} "
                f"| {row['gb_s']:.0f} | {100 * row['gb_s'] * 1e9 / PEAK_BYTES_PER_S:.1f} "
                f"| {ratio('anemoi-models triton', 'wall_ms', row)} "
                f"| {ratio('anemoi-models triton + index/call', 'wall_ms', row)} "
                f"| {ratio('anemoi-models triton', 'kernel_ms', row)} | {ratio('PyG compiled', 'wall_ms', row)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["o96"])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--out", type=Path, help="write the rows as JSON and the table as markdown here")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("benchmarks/graph_attention.py needs a CUDA GPU")
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    rows = [row for name in args.sets for spec in SETS[name] for row in run_set(spec, args.methods)]
    table = ratio_table(rows)
    print("\n" + table)
    if args.out:
        args.out.write_text(json.dumps({"device": torch.cuda.get_device_name(), "rows": rows}, indent=1))
        args.out.with_suffix(".md").write_text(table + "\n")


if __name__ == "__main__":
    main()
