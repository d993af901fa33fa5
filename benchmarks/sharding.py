"""Peak memory per rank and step time of a model split over a model group, against the model whole (CPU, gloo).

Every layout trains the same model (GraphTransformer or GNN processor, GraphTransformer mappers) on the
same graph (O<grid> data nodes, icosahedral hidden mesh; Anemoi's o96 recipe: cutoff encoder, multiscale
processor, knn-3 decoder) and the same batch, each layout in its own real processes forming a gloo group:

* ``whole``: one process; ``chunks-N``: one process, mappers in N destination chunks (``num_chunks``);
* ``edges-K`` / ``heads-K``: one model group of K processes sharded by destination nodes / attention heads;
  ``-kept`` keeps the batch (input, output, loss) sharded over the grid;
* ``ddp-N``: N replicas (torch DDP), each with ``--batch`` samples: the global batch is N x ``--batch``;
  ``big-N``: one process with the whole global batch of ``ddp-N``, the reference its weights are compared with.

On GPUs (``--device cuda``) every rank owns one card, the groups talk NCCL, attention runs the Triton kernel
and peak memory is ``max_memory_allocated`` per card (activations, weights, gradients and optimiser state).
After the timed steps every layout writes its weights; the driver prints the largest relative difference of
each layout's weights from the reference layout's (``whole``; ``big-N`` for ``ddp-N``) and of its loss.

A step is zero_grad, forward, area-weighted MSE, backward, gradient sum over the group, AdamW. Peak memory
is the rise of peak RSS (VmHWM, reset after the warm-up steps) during the timed steps, per rank: the
activations and their gradients, not the weights. Step time is the slowest rank's; on a machine with fewer
cores than ranks the ranks share cores, so only memory and the exchange overhead are meaningful there.

  python benchmarks/sharding.py                                  # o48, level 4, 64 channels, 2 layers
  python benchmarks/sharding.py --layouts whole,chunks-2,chunks-4 --grid 96 --hidden-refinement 5
  python benchmarks/sharding.py --device cuda --precision bf16 --grid 96 --hidden-refinement 5 \
      --channels 1024 --layers 16 --heads 16 --variables 90 --layouts whole,big-4,ddp-2,ddp-4,edges-2,heads-4
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
    p.add_argument("--rollout", type=int, default=1, help="autoregressive steps per training step (loss on each)")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="cuda: one card per rank, NCCL")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="bf16: autocast")
    p.add_argument("--checkpointing", action="store_true", help="gradient checkpointing")
    p.add_argument("--weights-dir", default="/tmp/anemoic-bench-weights", help="where layouts leave their weights")
    p.add_argument("--graph-cache", default=os.environ.get("ANEMOIC_BENCH_CACHE", "/tmp/anemoic-bench-graphs"))
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)  # "layout rank world port"
    args = p.parse_args(argv)
    args.backend = "triton" if args.device == "cuda" else "reference"
    return args


def _layout(name: str) -> tuple[str, int, bool, int]:
    """(kind, ranks, batch kept sharded, chunks) of a layout name."""
    parts = name.split("-")
    if parts[0] == "whole":
        return "whole", 1, False, 1
    if parts[0] == "chunks":
        return "whole", 1, False, int(parts[1])
    if parts[0] == "big":
        return "big", 1, False, 1
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
    device = torch.device(f"cuda:{rank}" if args.device == "cuda" else "cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(0)
    graph = build_benchmark_graph(args)
    inputs = tuple(f"v{i}" for i in range(args.variables))
    outputs = inputs[: args.variables - 5]
    mapper = "graphtransformer"
    spec = ModelPlan(processor=args.processor, encoder=mapper, decoder=mapper, channels=args.channels,
                     layers=args.layers, heads=args.heads, num_chunks=chunks, attention_backend=args.backend,
                     gradient_checkpointing=args.checkpointing)
    model = build_model_from(spec, ModelIO(inputs, outputs, outputs, args.multistep), graph)
    grid = graph["data"].num_nodes
    replicas = int(name.split("-")[1]) if kind in ("ddp", "big") else 1
    g = torch.Generator().manual_seed(0)  # the global batch: the same on every rank, whatever the layout
    x = torch.randn(args.batch * replicas, args.multistep, 1, grid, args.variables, generator=g)
    target = torch.randn(args.batch * replicas, 1, grid, len(outputs), generator=g)
    if kind == "ddp":
        x, target = x[rank * args.batch:(rank + 1) * args.batch], target[rank * args.batch:(rank + 1) * args.batch]
    weights = graph["data"].area_weight.float()
    weights = weights / weights.sum()
    comm, group = Comm.alone(), None
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world,
                                **({"device_id": device} if device.type == "cuda" else {}))
    model = model.to(device)
    if world > 1 and kind != "ddp":
        groups = ProcessGroups(GroupLayout(world, rank, world, 1))
        group, comm = groups.model, Comm(groups.model, world, rank)
        sizes = lambda n: tuple(b - a for a, b in zip(contiguous_parts(n, world)[:-1], contiguous_parts(n, world)[1:]))  # noqa: E731
        model.shard(ShardContext(comm, kind, kept, sizes(grid), sizes(graph["hidden"].num_nodes)))
    if kept:
        mine = model.sharding.data_range
        x, target, weights = x[:, :, :, mine].contiguous(), target[:, :, mine].contiguous(), weights[mine]
    x, target, weights = x.to(device), target.to(device), weights.to(device)
    trained = model
    if kind == "ddp":
        trained = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank] if device.type == "cuda" else None)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16")

    def loss_fn(prediction: torch.Tensor) -> torch.Tensor:
        partial = ((prediction.float() - target).square() * weights.view(1, 1, -1, 1)).sum(dim=(2, 3)).mean()
        return sum_replicated(partial, comm) if kept else partial

    def rollout_loss(state: torch.Tensor) -> torch.Tensor:
        """The loss summed over ``--rollout`` steps, each prediction fed back with the last step's forcings."""
        total = 0.0
        for _ in range(args.rollout):
            prediction = trained(state)
            total = total + loss_fn(prediction)
            newest = torch.cat([prediction.to(state.dtype), state[:, -1, ..., prediction.shape[-1]:]], dim=-1)
            state = torch.cat([state[:, 1:], newest.unsqueeze(1)], dim=1)
        return total / args.rollout

    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def step() -> float:
        optimiser.zero_grad(set_to_none=True)
        with autocast:
            value = rollout_loss(x)
        value.backward()
        for p in model.parameters():  # the group's partial gradients summed (the DDP hook's job in training)
            if group is not None and p.grad is not None:
                dist.all_reduce(p.grad, group=group)
        optimiser.step()
        return value.detach()

    for _ in range(args.warmup):
        step()
    sync()
    if world > 1:
        dist.barrier()
    baseline = _reset_peak_memory(device)
    started = time.perf_counter()
    losses = [step() for _ in range(args.steps)]
    sync()
    if world > 1:
        dist.barrier()
    seconds = (time.perf_counter() - started) / args.steps
    if kind == "ddp" and world > 1:  # the global batch's loss, as ``big-N`` computes it
        for value in losses:
            dist.all_reduce(value)
            value /= world
    if rank == 0:
        flat = torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])
        Path(args.weights_dir).mkdir(parents=True, exist_ok=True)
        torch.save(flat, Path(args.weights_dir) / f"{name}.pt")
    print(json.dumps({"layout": name, "rank": rank, "s_per_it": seconds, "loss": float(losses[-1]),
                      "samples": args.batch * replicas, "peak_mib": _peak_memory_mib(device, baseline)}),
          flush=True)
    if world > 1:
        dist.destroy_process_group()


def _weight_difference(args: argparse.Namespace, name: str, reference: str) -> float | None:
    """Largest |w - w_ref| over max |w_ref| of two layouts' weights after the same steps."""
    import torch

    paths = [Path(args.weights_dir) / f"{n}.pt" for n in (name, reference)]
    if name == reference or not all(path.exists() for path in paths):
        return None
    mine, theirs = (torch.load(path, weights_only=True) for path in paths)
    if mine.shape != theirs.shape:
        return None
    return float((mine - theirs).abs().max() / theirs.abs().max())


def run_layout(args: argparse.Namespace, name: str) -> list[dict]:
    _, ranks, _, _ = _layout(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(args.threads)}
    keys = ("processor", "channels", "heads", "layers", "variables", "multistep", "batch", "grid", "hidden_refinement",
            "steps", "rollout", "warmup", "threads", "graph_cache", "device", "precision", "weights_dir")
    argv = [item for key in keys for item in (f"--{key.replace('_', '-')}", str(getattr(args, key)))]
    argv += ["--checkpointing"] if args.checkpointing else []
    processes = [subprocess.Popen([sys.executable, __file__, *argv, "--worker", f"{name} {r} {ranks} {port}"],
                                  env=env, stdout=subprocess.PIPE, text=True) for r in range(ranks)]
    out = [process.communicate()[0] for process in processes]
    if any(process.returncode for process in processes):  # an out-of-memory is a result: say so, go on
        print(f"{name:14s} {ranks:5d} failed (exit codes {[process.returncode for process in processes]})", flush=True)
        return []
    return [json.loads(line) for text in out for line in text.splitlines() if line.startswith("{")]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    build_benchmark_graph(args)  # build the cached graph once, before the layouts race for it
    results: dict[str, list[dict]] = {}
    whole = None
    print(f"{args.processor}, O{args.grid} + icosahedral level {args.hidden_refinement}, {args.channels} channels, "
          f"{args.heads} heads, {args.layers} layers, batch {args.batch}, rollout {args.rollout}, {args.precision}, device {args.device}, "
          f"{args.threads} thread(s) per rank, {os.cpu_count()} CPU cores")
    print(f"{'layout':14s} {'ranks':>5s} {'peak MiB/rank':>14s} {'vs whole':>9s} {'s/step':>8s} {'vs whole':>9s} "
          f"{'samples/s':>10s}  {'loss':>10s}  weights vs reference")
    for name in args.layouts.split(","):
        rows = run_layout(args, name)
        if not rows:
            continue
        peak = max(r["peak_mib"] for r in rows)
        seconds = max(r["s_per_it"] for r in rows)
        if name == "whole":
            whole = (peak, seconds)
        ratio = (f"{peak / whole[0]:9.2f} {seconds:8.3f} {seconds / whole[1]:9.2f}" if whole else
                 f"{'':9s} {seconds:8.3f} {'':9s}")
        reference = f"big-{name.split('-')[1]}" if name.startswith("ddp-") else "whole"
        difference = _weight_difference(args, name, reference)
        versus = f"{difference:.2e} ({reference})" if difference is not None else ""
        print(f"{name:14s} {len(rows):5d} {peak:14.1f} {ratio} {rows[0]['samples'] / seconds:10.2f}  "
              f"{rows[0]['loss']:10.6f}  {versus}", flush=True)
        results[name] = rows
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
