"""Data parallelism and model groups from the plan: DDP over ``nodes x processes_per_node`` processes.

gloo on CPU (the CI and the laptop), NCCL on GPUs: one process per GPU, or ``processes_per_node`` CPU
processes, so the same plan shape can be tested without GPUs. With ``gpus_per_model`` > 1 the ranks form
model groups (``groups``): ``ModelGroupStrategy`` creates their process groups once the default group
exists, and its gradient hook sums each model group's partial gradients and averages over the model
replicas (the data-parallel size), where plain DDP averages over every rank.
"""

# no ``from __future__ import annotations``: DDP checks the hook's annotations as objects, not strings
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from anemoic.plan.model import ParallelPlan
from anemoic.runtime.distributed.groups import GroupLayout, ProcessGroups


@dataclass(frozen=True)
class Layout:
    accelerator: str  # "cpu" | "gpu"
    devices: int  # processes per node
    num_nodes: int
    strategy: Any  # "auto", a DDPStrategy or a ModelGroupStrategy

    @property
    def world_size(self) -> int:
        return self.devices * self.num_nodes


def accelerator_for(parallel: ParallelPlan) -> str:
    if parallel.accelerator == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    return parallel.accelerator


@dataclass
class ReplicaMean:
    """State of ``mean_over_model_replicas``: how many model replicas (model groups) train."""

    replicas: int = 1


def mean_over_model_replicas(state: ReplicaMean, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """DDP gradient hook: the sum over all ranks divided by the number of model replicas.

    Each rank of a model group holds its partition's share of the replica's gradient (``collectives``);
    summing the shares gives the replica's gradient, and the replicas are averaged as in plain DDP.
    """
    buffer = bucket.buffer()
    buffer.div_(state.replicas)
    work = dist.all_reduce(buffer, async_op=True)
    return work.get_future().then(lambda done: done.value()[0])


def _model_group_strategy() -> type:  # Lightning is imported only for a multi-process run
    from lightning.pytorch.strategies import DDPStrategy

    class ModelGroupStrategy(DDPStrategy):
        """DDP over every rank, with model groups of ``gpus_per_model`` ranks sharing one replica."""

        def __init__(self, parallel: ParallelPlan, **kwargs: Any) -> None:
            # buffers are built from the plan identically on every rank, and a shard's own graph tensors are
            # no buffers: nothing to broadcast at each step
            super().__init__(ddp_comm_state=ReplicaMean(), ddp_comm_hook=mean_over_model_replicas,
                             broadcast_buffers=False, **kwargs)
            self.parallel = parallel
            self.process_groups: ProcessGroups | None = None

        def setup_distributed(self) -> None:
            super().setup_distributed()
            layout = GroupLayout.from_plan(self.parallel, self.world_size, self.global_rank)
            self._ddp_comm_state = ReplicaMean(layout.data_parallel_size)
            self.process_groups = ProcessGroups(layout)

        def _register_ddp_hooks(self) -> None:
            # Lightning registers communication hooks on CUDA only; gloo runs them too, and without this one
            # the gradients of a model group would be averaged instead of summed
            self.model.register_comm_hook(self._ddp_comm_state, self._ddp_comm_hook)

    return ModelGroupStrategy


def layout_for(parallel: ParallelPlan) -> Layout:
    accelerator = accelerator_for(parallel)
    devices = max(1, parallel.processes_per_node)
    nodes = max(1, parallel.nodes)
    if devices * nodes == 1:
        return Layout(accelerator, 1, 1, "auto")
    from lightning.pytorch.strategies import DDPStrategy

    backend = "gloo" if accelerator == "cpu" else "nccl"
    if parallel.gpus_per_model > 1:
        return Layout(accelerator, devices, nodes, _model_group_strategy()(parallel, process_group_backend=backend))
    return Layout(accelerator, devices, nodes, DDPStrategy(process_group_backend=backend))
