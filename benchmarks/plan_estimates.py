"""How close are `anemoic build`'s compile-time estimates to the real model? Prints measured / estimated.

For a few model configurations on an octahedral grid it builds the real graph
and model, runs one forward and backward pass on the device, and compares
- the parameter count (must be exact), and
- the activation memory kept for backward (``memory_allocated`` after the
  forward pass minus before it), and the peak of the step above the static
  memory, with the plan's ``activation_bytes_per_gpu`` (a rule of thumb).
Run on a GPU: ``python benchmarks/plan_estimates.py --device cuda``; on CPU
it only prints the estimates (no allocator statistics there).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from anemoic.compiler.estimates import estimate  # noqa: E402
from anemoic.geo.grids import octahedral_reduced_gaussian  # noqa: E402
from anemoic.runtime.models.graph_tensors import build_graph  # noqa: E402
from anemoic.runtime.models.builder import build_model  # noqa: E402
from tests.factories import make_plan  # noqa: E402

CONFIGS = {
    "gt": {},
    "gt-ckpt": {"model.gradient_checkpointing": True},
    "gt-bf16": {"training.precision": "bf16-mixed"},
    "gnn": {"model.processor": "gnn", "model.encoder": "gnn", "model.decoder": "gnn"},
    "transformer": {"model.processor": "transformer", "model.window_size": 512},
}


def plan_for(name: str, grid_size: int, channels: int, layers: int, refinement: int):
    return make_plan(**{
        "dataset.grid_size": grid_size, "model.channels": channels, "model.layers": layers, "model.heads": 8,
        "graph.hidden.params": {"refinement": refinement},
        "graph.processor.params": {"levels": refinement},
        "task.rollout.maximum": 1, "task.rollout.start": 1, **CONFIGS[name],
    })


def measure(plan, graph, device: torch.device) -> tuple[int, int, int]:
    """(parameters, bytes kept after forward, peak bytes above the static memory) for one step."""
    model = build_model(plan, graph).to(device)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    x = torch.randn(plan.training.batch_size, plan.task.multistep_input, 1, plan.dataset.grid_size,
                    len(plan.indices.input), device=device)
    if device.type != "cuda":
        return params, 0, 0
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if plan.training.precision == "bf16-mixed"
                else contextlib.nullcontext())
    for _ in range(2):  # the second step is measured: kernels compiled, allocator warm
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        static = torch.cuda.memory_allocated()
        with autocast:
            loss = model(x).float().square().mean()
        kept = torch.cuda.memory_allocated() - static
        loss.backward()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - static
    del model
    return params, kept, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--grid", type=int, default=48, help="octahedral N (o48: 10,944 points)")
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--refinement", type=int, default=4)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    args = parser.parse_args()
    device = torch.device(args.device)
    lat, lon = octahedral_reduced_gaussian(args.grid)
    print(f"grid o{args.grid} ({lat.size} points), hidden icosahedral {args.refinement}, "
          f"{args.channels} channels, {args.layers} layers, batch 1, device {device}")
    print(f"{'config':12s} {'params est':>11s} {'params real':>11s} {'act est MiB':>11s} "
          f"{'kept MiB':>9s} {'kept/est':>8s} {'peak MiB':>9s} {'peak/est':>8s}")
    for name in args.configs.split(","):
        plan = plan_for(name, lat.size, args.channels, args.layers, args.refinement)
        graph = build_graph(plan.graph, lat, lon)
        est = estimate(plan)
        params, kept, peak = measure(plan, graph, device)
        mib = 1024**2
        act = est.activation_bytes_per_gpu
        ratio = (lambda v: f"{v / act:8.2f}") if device.type == "cuda" else (lambda v: f"{'n/a':>8s}")
        print(f"{name:12s} {est.parameter_count:11,d} {params:11,d} {act / mib:11.1f} "
              f"{kept / mib:9.1f} {ratio(kept)} {peak / mib:9.1f} {ratio(peak)}", flush=True)
        if est.parameter_count != params:
            print(f"  parameter count differs by {params - est.parameter_count:+,d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
