"""Run in real gloo processes: the sharded model against the same model whole, case by case.

Each rank builds the same model (same seed) on the same tiny graph, computes the whole model as the
reference, then joins a model group of ``k`` ranks, shards, and runs the same input. Outputs must
match, and the parameter gradients summed over the group must match the whole model's. Every rank
runs every case in the same order (process groups are created collectively); rank 0 of each model
group writes what it measured to ``OUT/<case>-<group>.json``. With ``ANEMOIC_TEST_DEVICE=cuda`` each rank
drives its own GPU and the group talks NCCL (float32 attention then runs the Triton kernel).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from anemoic.runtime.distributed.collectives import Comm, gather_replicated, sum_replicated
from anemoic.runtime.distributed.groups import GroupLayout, ProcessGroups, contiguous_parts
from anemoic.runtime.models import build_model
from anemoic.runtime.models.sharded import ShardContext
from tests.factories import make_plan
from tests.runtime.models.tiny_graph import tiny_graph

GRID, HIDDEN = 40, 13


def case_name(case: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in sorted(case.items()))


DEVICE = os.environ.get("ANEMOIC_TEST_DEVICE", "cpu")


def _model(case: dict[str, Any]) -> tuple[Any, torch.nn.Module]:
    mapper = case.get("mapper", case["processor"] if case["processor"] in ("gnn", "graphtransformer")
                      else "graphtransformer")
    plan = make_plan(**{"model.channels": 16, "model.heads": 4, "model.window_size": case.get("window"),
                        "model.processor": case["processor"], "model.encoder": mapper, "model.decoder": mapper,
                        "model.layers": 2, "model.num_chunks": case.get("chunks", 1),
                        "model.gradient_checkpointing": case.get("checkpointing", False),
                        "model.attention_backend": "reference" if case.get("float64") else "auto"})
    torch.manual_seed(7)
    model = build_model(plan, tiny_graph(grid=GRID, hidden=HIDDEN))
    with torch.no_grad():  # trainable node parameters start at zero: make them matter
        for name, p in model.named_parameters():
            if name.startswith("trainable"):
                p.normal_()
    return plan, model


def _inputs(plan: Any) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, plan.task.multistep_input, 1, GRID, len(plan.indices.input), generator=g)
    weights = torch.randn(2, 1, GRID, len(plan.indices.output), generator=g)
    return x, weights


def _grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}


def run_case(case: dict[str, Any], rank: int, world: int, out: Path) -> None:
    k = case["k"]
    plan, model = _model(case)
    x, weights = _inputs(plan)
    if case.get("float64"):  # exact arithmetic up to 1e-16: a wrong or missing contribution cannot hide
        model, x, weights = model.double(), x.double(), weights.double()
    device = torch.device(DEVICE, rank) if DEVICE == "cuda" else torch.device("cpu")
    model, x, weights = model.to(device), x.to(device), weights.to(device)
    whole = model(x)
    (whole * weights).sum().backward()
    expected = _grads(model)
    model.zero_grad()

    layout = GroupLayout(world, rank, k, 1)
    groups = ProcessGroups(layout)
    comm = Comm(groups.model, k, layout.model_rank)
    data = contiguous_parts(GRID, k)
    hidden = contiguous_parts(HIDDEN, k)
    sizes = lambda bounds: tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))  # noqa: E731
    context = ShardContext(comm, case["strategy"], case.get("batch_sharded", False), sizes(data), sizes(hidden))
    model.shard(context)
    mine = context.data_range
    if context.batch_sharded:
        local = model(x[:, :, :, mine])
        loss = sum_replicated((local * weights[:, :, mine]).sum(), comm)
        output = gather_replicated(local.detach(), 2, context.data_sizes, comm)
    else:
        output = model(x)
        loss = (output * weights).sum()
    loss.backward()
    grads = _grads(model)
    for g in grads.values():
        dist.all_reduce(g, group=groups.model)
    model.unshard()
    again = model(x)  # unsharded again: the whole model as before
    if layout.model_rank == 0:
        worst = max(((grads[n] - e).abs().max() / e.abs().max().clamp_min(1e-30)).item() for n, e in expected.items())
        # element by element, against the element's own size (plus a floor that ignores exact zeros' noise)
        elementwise = {n: ((grads[n] - e).abs() / (e.abs() + 1e-4 * e.abs().max()).clamp_min(1e-30)).max().item()
                       for n, e in expected.items()}
        missing = [n for n, e in expected.items() if bool(e.abs().max() > 0) and not bool(grads[n].abs().max() > 0)]
        record = {
            "output": ((output - whole).abs().max() / whole.abs().max()).item(),
            "output_bitwise": bool(torch.equal(output, whole)),
            "loss": abs(loss.item() - (whole * weights).sum().item()) / abs((whole * weights).sum().item()),
            "grad": worst,
            "grad_elementwise": max(elementwise.values()),
            "grad_elementwise_worst": max(elementwise, key=elementwise.get),
            "grads_missing": missing,
            "unsharded_again": bool(torch.equal(again, whole)),
            "unsharded_again_difference": ((again - whole).abs().max() / whole.abs().max()).item(),
        }
        (out / f"{case_name(case)}-group{layout.model_group}.json").write_text(json.dumps(record))


def main(rank: int, world: int, port: int, out: str, cases: list[dict[str, Any]]) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    if DEVICE == "cuda":
        torch.cuda.set_device(rank)
    dist.init_process_group("nccl" if DEVICE == "cuda" else "gloo", rank=rank, world_size=world)
    try:
        for case in cases:
            run_case(case, rank, world, Path(out))
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]))
