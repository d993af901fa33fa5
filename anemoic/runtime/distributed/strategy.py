"""Data parallelism from the plan: DDP over ``nodes x processes_per_node`` processes.

gloo on CPU (the CI and the laptop), NCCL on GPUs: one process per GPU, or
``processes_per_node`` CPU processes, so the same plan shape can be tested without GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from anemoic.plan.model import ParallelPlan


@dataclass(frozen=True)
class Layout:
    accelerator: str  # "cpu" | "gpu"
    devices: int  # processes per node
    num_nodes: int
    strategy: Any  # "auto" or a DDPStrategy

    @property
    def world_size(self) -> int:
        return self.devices * self.num_nodes


def accelerator_for(parallel: ParallelPlan) -> str:
    if parallel.accelerator == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return parallel.accelerator


def layout_for(parallel: ParallelPlan) -> Layout:
    accelerator = accelerator_for(parallel)
    devices = max(1, parallel.processes_per_node)
    nodes = max(1, parallel.nodes)
    if devices * nodes == 1:
        return Layout(accelerator, 1, 1, "auto")
    from lightning.pytorch.strategies import DDPStrategy

    backend = "gloo" if accelerator == "cpu" else "nccl"
    return Layout(accelerator, devices, nodes, DDPStrategy(process_group_backend=backend))
