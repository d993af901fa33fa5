"""Model groups, read groups and data-parallel replicas from the plan's layout; layouts that cannot form."""

from __future__ import annotations

import pytest

from anemoic.plan.model import ParallelPlan
from anemoic.runtime.data.sampling import grid_shard
from anemoic.runtime.distributed.groups import GroupLayout, check_layout, contiguous_parts, started_world_size
from anemoic.runtime.errors import RuntimeUserError


def test_model_groups_are_consecutive_ranks_and_read_groups_lie_inside_them() -> None:
    layouts = [GroupLayout(8, rank, 4, 2) for rank in range(8)]
    assert layouts[5].model_groups() == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert layouts[5].read_groups() == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [(l.model_group, l.model_rank, l.read_rank) for l in layouts] == [
        (0, 0, 0), (0, 1, 1), (0, 2, 0), (0, 3, 1), (1, 0, 0), (1, 1, 1), (1, 2, 0), (1, 3, 1)]
    assert layouts[0].data_parallel_size == 2 and layouts[6].read_ranks() == [6, 7]


def test_the_partition_of_a_rank_is_its_read_slice() -> None:
    assert contiguous_parts(10, 4) == (0, 2, 5, 8, 10)  # lengths differ by at most one
    assert [grid_shard(10, shard, 4) for shard in range(4)] == [slice(0, 2), slice(2, 5), slice(5, 8), slice(8, 10)]


@pytest.mark.parametrize("parallel, world, message", [
    (ParallelPlan(processes_per_node=4, gpus_per_model=2), 3,
     "error: 3 processes were started, but the plan's layout is 1 node(s) x 4 = 4 (model groups of 2)"),
    (ParallelPlan(processes_per_node=6, gpus_per_model=4), 6,
     "error: 6 processes cannot be split into model groups of gpus_per_model = 4"),
    (ParallelPlan(processes_per_node=4, gpus_per_model=2, read_group_size=4), 4,
     "error: read groups of 4 do not divide model groups of 2"),
])
def test_a_layout_the_processes_cannot_form_is_refused_naming_the_numbers(parallel: ParallelPlan, world: int,
                                                                         message: str) -> None:
    with pytest.raises(RuntimeUserError) as refused:
        check_layout(parallel, world)
    assert str(refused.value).startswith(message)


@pytest.mark.filterwarnings("ignore:.*srun.*command is available")  # Lightning's hint, not ours
def test_the_started_processes_are_srun_s_tasks_or_torchrun_s_world(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLURM_NTASKS", "SLURM_JOB_NAME", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert started_world_size() is None  # the runtime starts the plan's processes itself
    monkeypatch.setenv("WORLD_SIZE", "8")
    assert started_world_size() == 8
    monkeypatch.setenv("SLURM_NTASKS", "3")
    monkeypatch.setenv("SLURM_JOB_NAME", "train")
    assert started_world_size() == 3
