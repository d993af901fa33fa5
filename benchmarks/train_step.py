"""Time and peak memory of one training step: anemoic's GraphTransformer next to anemoi-models'.

Both models run on the same o96 grid (40,320 points) and level-5 icosahedral hidden mesh (10,242
nodes), same graph (built once by anemoic's graph builder and cached), channels, heads, layers,
variables and loss (area-weighted MSE), AdamW. Each implementation runs in its own process, so
peak memory is its own: CUDA ``max_memory_allocated`` on a GPU, the rise of peak RSS (VmHWM,
reset before the timed steps) on CPU. anemoi-models needs torch<2.11, so it usually lives in a
separate venv: ``--anemoi-python /tmp/am-venv/bin/python`` (the default when it exists).

The anemoi-models side uses its own GraphTransformerForwardMapper / GraphTransformerProcessor /
GraphTransformerBackwardMapper and StaticGraphProvider, assembled with the data flow of its
AnemoiModelEncProcDec (node attributes = sin/cos lat/lon + 8 trainable, residual on prognostics);
its full class needs a Hydra training config that this script does not reproduce.

Only torch, torch-geometric, numpy/scipy (graph) and anemoic's models/kernels/graphs are imported
on the anemoic path: it runs on the GPU machine as ``python3 benchmarks/train_step.py --device cuda``.

  python benchmarks/train_step.py                      # CPU: 128 channels, 2 layers (full size is hopeless)
  python benchmarks/train_step.py --device cuda --backend triton --channels 1024 --layers 16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_ANEMOI_PYTHON = "/tmp/am-venv/bin/python"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--backend", default="auto", choices=("auto", "triton", "reference"),
                   help="anemoic attention backend (anemoi-models uses triton on cuda, pyg on cpu)")
    p.add_argument("--channels", type=int, default=None, help="default: 1024 on cuda, 128 on cpu")
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--layers", type=int, default=None, help="default: 16 on cuda, 2 on cpu")
    p.add_argument("--variables", type=int, default=90, help="input variables (outputs: 5 fewer, as forcings)")
    p.add_argument("--multistep", type=int, default=2)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--steps", type=int, default=None, help="timed steps (default: 10 on cuda, 3 on cpu)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default: 3 cuda, 1 cpu)")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="bf16: autocast")
    p.add_argument("--checkpointing", action="store_true", help="gradient checkpointing in both models")
    p.add_argument("--hidden-refinement", type=int, default=5)
    p.add_argument("--grid", type=int, default=96, help="octahedral O<n> data grid")
    p.add_argument("--graph-cache", default=os.environ.get("ANEMOIC_BENCH_CACHE", "/tmp/anemoic-bench-graphs"))
    p.add_argument("--impl", default="both", choices=("both", "anemoic", "anemoi-models"))
    p.add_argument("--anemoi-python", default=DEFAULT_ANEMOI_PYTHON,
                   help="python with anemoi-models installed (its own venv)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    args.channels = args.channels or (1024 if cuda else 128)
    args.layers = args.layers or (16 if cuda else 2)
    args.steps = args.steps or (10 if cuda else 3)
    args.warmup = args.warmup if args.warmup is not None else (3 if cuda else 1)
    return args


# ---------------------------------------------------------------- shared by both workers
def build_benchmark_graph(args: argparse.Namespace):
    """O<grid> data nodes, icosahedral hidden mesh; Anemoi's o96 recipe (cutoff 0.6, multiscale, knn 3)."""
    from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan
    from anemoic.runtime.models.graph_tensors import build_graph
    from anemoic.geo.grids import octahedral_reduced_gaussian

    plan = GraphPlan(
        name=f"o{args.grid}-ico{args.hidden_refinement}", cache_key="benchmark",
        data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": args.hidden_refinement}),
        encoder=EdgesPlan("cutoff", {"factor": 0.6}), processor=EdgesPlan("multiscale", {}),
        decoder=EdgesPlan("knn", {"k": 3}),
    )
    lat, lon = octahedral_reduced_gaussian(args.grid)
    return build_graph(plan, lat, lon, cache_dir=args.graph_cache)


def time_steps(args, model, loss_fn, x, target, device) -> dict:
    """Warm up, reset peak memory, then time full steps (zero_grad, forward, loss, backward, AdamW)."""
    import torch

    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def step() -> float:
        optimiser.zero_grad(set_to_none=True)
        with autocast:
            value = loss_fn(model(x), target)
        value.backward()
        optimiser.step()
        return float(value.detach())

    for _ in range(args.warmup):
        step()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    baseline = _reset_peak_memory(device)
    started = time.perf_counter()
    last = 0.0
    for _ in range(args.steps):
        last = step()
    sync()
    seconds = (time.perf_counter() - started) / args.steps
    return {"s_per_it": seconds, "peak_mib": _peak_memory_mib(device, baseline), "loss": last,
            "parameters": sum(p.numel() for p in model.parameters()), "torch": torch.__version__}


def _reset_peak_memory(device) -> int:
    import torch

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return 0
    with open("/proc/self/clear_refs", "w") as f:  # "5" resets VmHWM to the current RSS
        f.write("5")
    return _status_kib("VmRSS")


def _peak_memory_mib(device, baseline_kib: int) -> float:
    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return (_status_kib("VmHWM") - baseline_kib) / 1024


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _inputs(args, graph, device):
    import torch

    g = torch.Generator().manual_seed(0)
    grid = graph["data"].num_nodes
    x = torch.randn(args.batch, args.multistep, 1, grid, args.variables, generator=g).to(device)
    target = torch.randn(args.batch, 1, grid, args.variables - 5, generator=g).to(device)
    return x, target


def _mse(graph, device):
    weights = graph["data"].area_weight.to(device)
    weights = weights / weights.sum()

    def loss(pred, target):
        return ((pred.float() - target).square() * weights.view(1, 1, -1, 1)).sum(dim=(2, 3)).mean()

    return loss


def _variables(args) -> tuple[tuple[str, ...], tuple[str, ...]]:
    inputs = tuple(f"v{i}" for i in range(args.variables))
    return inputs, inputs[: args.variables - 5]


# ---------------------------------------------------------------- anemoic
def run_anemoic(args) -> dict:
    import torch

    from anemoic.plan.model import ModelPlan
    from anemoic.runtime.models import ModelIO, build_model_from

    device = torch.device(args.device)
    graph = build_benchmark_graph(args)
    inputs, outputs = _variables(args)
    spec = ModelPlan(processor="graphtransformer", encoder="graphtransformer", decoder="graphtransformer",
                     channels=args.channels, layers=args.layers, heads=args.heads,
                     gradient_checkpointing=args.checkpointing, attention_backend=args.backend)
    io = ModelIO(inputs, outputs, outputs, args.multistep)
    model = build_model_from(spec, io, graph).to(device)
    x, target = _inputs(args, graph, device)
    return time_steps(args, model, _mse(graph, device), x, target, device)


# ---------------------------------------------------------------- anemoi-models
def run_anemoi_models(args) -> dict:
    import einops
    import torch
    from anemoi.models.distributed.shapes import BipartiteGraphShardInfo, GraphShardInfo
    from anemoi.models.layers.graph_provider import StaticGraphProvider
    from anemoi.models.layers.mapper import GraphTransformerBackwardMapper, GraphTransformerForwardMapper
    from anemoi.models.layers.processor import GraphTransformerProcessor
    from torch import nn

    device = torch.device(args.device)
    graph = build_benchmark_graph(args)
    backend = "triton" if args.device == "cuda" else "pyg"
    n_in, n_out = args.variables, args.variables - 5
    common = {"num_channels": args.channels, "num_chunks": 1, "num_heads": args.heads, "mlp_hidden_ratio": 4,
              "layer_kernels": None, "graph_attention_backend": backend}

    def provider(relation):
        store = graph[relation]
        return StaticGraphProvider(store, ["edge_attr"], graph[relation[0]].num_nodes,
                                   graph[relation[2]].num_nodes, trainable_size=0)

    def sincos(latlon):
        return torch.cat([torch.sin(latlon), torch.cos(latlon)], dim=-1)

    class AnemoiModelsGT(nn.Module):
        """AnemoiModelEncProcDec's data flow around anemoi-models' own mapper and processor layers."""

        def __init__(self) -> None:
            super().__init__()
            self.enc_graph = provider(("data", "to", "hidden"))
            self.proc_graph = provider(("hidden", "to", "hidden"))
            self.dec_graph = provider(("hidden", "to", "data"))
            self.register_buffer("pos_data", sincos(graph["data"].x.float()), persistent=False)
            self.register_buffer("pos_hidden", sincos(graph["hidden"].x.float()), persistent=False)
            self.trainable_data = nn.Parameter(torch.zeros(graph["data"].num_nodes, 8))
            self.trainable_hidden = nn.Parameter(torch.zeros(graph["hidden"].num_nodes, 8))
            data_dim = args.multistep * n_in + 12
            self.encoder = GraphTransformerForwardMapper(
                in_channels_src=data_dim, in_channels_dst=12, edge_dim=self.enc_graph.edge_dim,
                gradient_checkpointing=args.checkpointing, **common)
            self.processor = GraphTransformerProcessor(
                num_layers=args.layers, edge_dim=self.proc_graph.edge_dim,
                gradient_checkpointing=args.checkpointing, **common)
            self.decoder = GraphTransformerBackwardMapper(
                in_channels_src=args.channels, in_channels_dst=data_dim, out_channels_dst=n_out,
                edge_dim=self.dec_graph.edge_dim, gradient_checkpointing=args.checkpointing, **common)

        def forward(self, x):
            batch = x.shape[0]
            attrs_data = torch.cat([self.pos_data, self.trainable_data], dim=-1).repeat(batch, 1)
            x_data = torch.cat([einops.rearrange(x, "b t e g v -> (b e g) (t v)"), attrs_data], dim=-1)
            x_hidden = torch.cat([self.pos_hidden, self.trainable_hidden], dim=-1).repeat(batch, 1)
            edge_attr, edge_index, _ = self.enc_graph.get_edges(batch_size=batch)
            _, x_latent = self.encoder((x_data, x_hidden), batch_size=batch, shard_info=BipartiteGraphShardInfo(),
                                       edge_attr=edge_attr, edge_index=edge_index, keep_x_dst_sharded=True)
            edge_attr, edge_index, _ = self.proc_graph.get_edges(batch_size=batch)
            x_latent = self.processor(x_latent, batch_size=batch, shard_info=GraphShardInfo(),
                                      edge_attr=edge_attr, edge_index=edge_index)
            edge_attr, edge_index, _ = self.dec_graph.get_edges(batch_size=batch)
            out = self.decoder((x_latent, x_data), batch_size=batch, shard_info=BipartiteGraphShardInfo(),
                               edge_attr=edge_attr, edge_index=edge_index)
            out = einops.rearrange(out, "(b e g) v -> b e g v", b=batch, e=1)
            return out + x[:, -1, ..., :n_out]

    model = AnemoiModelsGT().to(device)
    x, target = _inputs(args, graph, device)
    return time_steps(args, model, _mse(graph, device), x, target, device)


# ---------------------------------------------------------------- driver
def _worker_command(python: str, impl: str, argv: list[str]) -> list[str]:
    return [python, str(Path(__file__).resolve()), *argv, "--worker", impl]


def _run_worker(python: str, impl: str, argv: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(_worker_command(python, impl, argv), capture_output=True, text=True, env=env)
    result_lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not result_lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-6:]
        return {"error": " | ".join(tail) or f"exit code {done.returncode}"}
    return json.loads(result_lines[-1][len("RESULT "):])


def _anemoi_python(args) -> tuple[str | None, str]:
    """A python that imports anemoi.models: this one, else --anemoi-python; with a reason when none."""
    import importlib.util

    if importlib.util.find_spec("anemoi") and importlib.util.find_spec("anemoi.models"):
        return sys.executable, ""
    if args.anemoi_python and Path(args.anemoi_python).exists():
        return args.anemoi_python, ""
    return None, (f"anemoi-models is not importable here and {args.anemoi_python} does not exist "
                  "(it needs torch<2.11: install it in its own venv)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.worker:
        result = run_anemoic(args) if args.worker == "anemoic" else run_anemoi_models(args)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    print(f"train step, GraphTransformer O{args.grid} / icosahedral level {args.hidden_refinement}: "
          f"device={args.device} channels={args.channels} heads={args.heads} layers={args.layers} "
          f"variables={args.variables} multistep={args.multistep} batch={args.batch} precision={args.precision} "
          f"checkpointing={args.checkpointing} steps={args.steps} (+{args.warmup} warm-up)", flush=True)
    graph = build_benchmark_graph(args)  # build (and cache) once, before either worker times anything
    print("graph: " + ", ".join(f"{k[0]}->{k[2]} {graph[k].edge_index.shape[1]:,} edges" for k in graph.edge_types)
          + f"; {graph['data'].num_nodes:,} data / {graph['hidden'].num_nodes:,} hidden nodes", flush=True)
    results: dict[str, dict] = {}
    if args.impl in ("both", "anemoic"):
        results["anemoic"] = _run_worker(sys.executable, "anemoic", argv)
    if args.impl in ("both", "anemoi-models"):
        python, reason = _anemoi_python(args)
        results["anemoi-models"] = _run_worker(python, "anemoi-models", argv) if python else {"error": reason}
    for name, r in results.items():
        if "error" in r:
            print(f"{name:>14}: not measured: {r['error']}")
        else:
            print(f"{name:>14}: {r['s_per_it']:.4f} s/it  peak {r['peak_mib']:.0f} MiB  "
                  f"{r['parameters']:,} parameters  loss {r['loss']:.4f}  (torch {r['torch']})")
    ours, theirs = results.get("anemoic", {}), results.get("anemoi-models", {})
    if "s_per_it" in ours and "s_per_it" in theirs:
        print(f"ratio anemoic / anemoi-models: time {ours['s_per_it'] / theirs['s_per_it']:.2f}x, "
              f"peak memory {ours['peak_mib'] / max(theirs['peak_mib'], 1e-9):.2f}x")
    return 0 if all("error" not in r for r in results.values() if r is ours) else 1


if __name__ == "__main__":
    sys.exit(main())
