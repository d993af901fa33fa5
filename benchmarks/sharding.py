"""Peak memory per rank and step time of a model split over a model group, against the model whole (CPU, gloo).

Every layout trains the same model (GraphTransformer or GNN processor, GraphTransformer mappers) on the
same graph (O<grid> data nodes, icosahedral hidden mesh; Anemoi's o96 recipe: cutoff encoder, multiscale
processor, knn-3 decoder) and the same batch, each layout in its own real processes forming a gloo group:

* ``whole``: one process; ``chunks-N``: one process, mappers in N destination chunks (``num_chunks``);
* ``edges-K`` / ``heads-K``: one model group of K processes sharded by destination nodes / attention heads;
  ``-kept`` keeps the batch (input, output, loss) sharded over the grid.

A step is zero_grad, forward, area-weighted MSE, backward, gradient sum over the group, AdamW. Peak memory
is the rise of peak RSS (VmHWM, reset after the warm-up steps) during the timed steps, per rank: the
activations and their gradients, not the weights. Step time is the slowest rank's; on a machine with fewer
cores than ranks the ranks share cores, so only memory and the exchange overhead are meaningful there.

  python benchmarks/sharding.py                                  # o48, level 4, 64 channels, 2 layers
  python benchmarks/sharding.py --layouts whole,chunks-2,chunks-4 --grid 96 --hidden-refinement 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.train_step import _peak_memory_mib, _reset_peak_memory, build_benchmark_graph  # noqa: E402

DEFAULT_LAYOUTS = "whole,chunks-2,chunks-4,edges-2,heads-2,edges-4,heads-4,edges-2-kept"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--layouts", default=DEFAULT_LAYOUTS)
    p.add_argument("--processor", default="graphtransformer", choices=("graphtransformer", "gnn"))
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--variables", type=int, default=40)
    p.add_argument("--multistep", type=int, default=2)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--grid", type=int, default=48, help="octahedral O<n> data grid")
    p.add_argument("--hidden-refinement", type=int, default=4)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    p.add_argument("--graph-cache", default=os.environ.get("ANEMOIC_BENCH_CACHE", "/tmp/anemoic-bench-graphs"))
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # "layout rank world port"
    p.add_argument("--backend", default="reference", help=argparse.SUPPRESS)  # for build_benchmark_graph
    return p.parse_args(argv)


def _layout(name: str) -> tuple[str, int, bool, int]:
    """(kind, ranks, batch kept sharded, chunks) of a layout name."""
    parts = name.split("-")
    if parts[0] == "whole":
        return "whole", 1, False, 1
    if parts[0] == "chunks":
        return "whole", 1, False, int(parts[1])
    return parts[0], int(parts[1]), parts[-1] == "kept", 1


def worker(args: argparse.Namespace) -> None:
    import torch
    import torch.distributed as dist

    from anemoic.plan.model import ModelPlan
    from anemoic.runtime.distributed.collectives import Comm, sum_replicated
    from anemoic.runtime.distributed.groups import GroupLayout, ProcessGroups, contiguous_parts
    from anemoic.runtime.models import ModelIO, build_model_from
    from anemoic.runtime.models.sharded import ShardContext

    name, rank, world, port = args.worker.split()
    rank, world = int(rank), int(world)
    kind, ranks, kept, chunks = _layout(name)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    graph = build_benchmark_graph(args)
    inputs = tuple(f"v{i}" for i in range(args.variables))
    outputs = inputs[: args.variables - 5]
    mapper = "graphtransformer"
    spec = ModelPlan(processor=args.processor, encoder=mapper, decoder=mapper, channels=args.channels,
                     layers=args.layers, heads=args.heads, num_chunks=chunks)
    model = build_model_from(spec, ModelIO(inputs, outputs, outputs, args.multistep), graph)
    grid = graph["data"].num_nodes
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, args.multistep, 1, grid, args.variables, generator=g)
    target = torch.randn(args.batch, 1, grid, len(outputs), generator=g)
    weights = graph["data"].area_weight.float()
    weights = weights / weights.sum()
    comm, group = Comm.alone(), None
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        dist.init_process_group("gloo", rank=rank, world_size=world)
        groups = ProcessGroups(GroupLayout(world, rank, world, 1))
        group, comm = groups.model, Comm(groups.model, world, rank)
        sizes = lambda n: tuple(b - a for a, b in zip(contiguous_parts(n, world)[:-1], contiguous_parts(n, world)[1:]))  # noqa: E731
        model.shard(ShardContext(comm, kind, kept, sizes(grid), sizes(graph["hidden"].num_nodes)))
    if kept:
        mine = model.sharding.data_range
        x, target, weights = x[:, :, :, mine].contiguous(), target[:, :, mine].contiguous(), weights[mine]

    def loss_fn(prediction: torch.Tensor) -> torch.Tensor:
        partial = ((prediction - target).square() * weights.view(1, 1, -1, 1)).sum(dim=(2, 3)).mean()
        return sum_replicated(partial, comm) if kept else partial

    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step() -> float:
        optimiser.zero_grad(set_to_none=True)
        value = loss_fn(model(x))
        value.backward()
        for p in model.parameters():  # the group's partial gradients summed (the DDP hook's job in training)
            if group is not None and p.grad is not None:
                dist.all_reduce(p.grad, group=group)
        optimiser.step()
        return float(value.detach())

    for _ in range(args.warmup):
        step()
    if world > 1:
        dist.barrier()
    baseline = _reset_peak_memory(torch.device("cpu"))
    started = time.perf_counter()
    last = 0.0
    for _ in range(args.steps):
        last = step()
    if world > 1:
        dist.barrier()
    seconds = (time.perf_counter() - started) / args.steps
    print(json.dumps({"layout": name, "rank": rank, "s_per_it": seconds, "loss": last,
                      "peak_mib": _peak_memory_mib(torch.device("cpu"), baseline)}), flush=True)
    if world > 1:
        dist.destroy_process_group()


def run_layout(args: argparse.Namespace, name: str) -> list[dict]:
    _, ranks, _, _ = _layout(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(args.threads)}
    keys = ("processor", "channels", "heads", "layers", "variables", "multistep", "batch", "grid", "hidden_refinement",
            "steps", "warmup", "threads", "graph_cache")
    argv = [item for key in keys for item in (f"--{key.replace('_', '-')}", str(getattr(args, key)))]
    processes = [subprocess.Popen([sys.executable, __file__, *argv, "--worker", f"{name} {r} {ranks} {port}"],
                                  env=env, stdout=subprocess.PIPE, text=True) for r in range(ranks)]
    out = [process.communicate()[0] for process in processes]
    if any(process.returncode for process in processes):
        raise SystemExit(f"layout {name} failed")
    return [json.loads(line) for text in out for line in text.splitlines() if line.startswith("{")]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    build_benchmark_graph(args)  # build the cached graph once, before the layouts race for it
    results, whole = {}, None
    print(f"{args.processor}, O{args.grid} + icosahedral level {args.hidden_refinement}, {args.channels} channels, "
          f"{args.heads} heads, {args.layers} layers, batch {args.batch}, {args.threads} thread(s) per rank, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'layout':14s} {'ranks':>5s} {'peak MiB/rank':>14s} {'vs whole':>9s} {'s/step':>8s} {'vs whole':>9s}  loss")
    for name in args.layouts.split(","):
        rows = run_layout(args, name)
        peak = max(r["peak_mib"] for r in rows)
        seconds = max(r["s_per_it"] for r in rows)
        if name == "whole":
            whole = (peak, seconds)
        ratio = (f"{peak / whole[0]:9.2f} {seconds:8.3f} {seconds / whole[1]:9.2f}" if whole else
                 f"{'':9s} {seconds:8.3f} {'':9s}")
        print(f"{name:14s} {len(rows):5d} {peak:14.1f} {ratio}  {rows[0]['loss']:.6f}", flush=True)
        results[name] = rows
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
