"""Run in real gloo processes: each rank of a read group reads its grid slice through the real loader.

Counts the bytes the rank reads from files while its loader yields ``BATCHES`` training batches (``rchar``
of /proc/self/io: every byte ``read()`` returned, page cache or not), then the bytes of reading the same
samples over the whole grid, and checks that the slices its read group shares make up the whole samples.
One case per plan of the payload; writes ``OUT/<case>-rank-<r>.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from anemoic.plan.io import read_plan
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.distributed.groups import GroupLayout, ProcessGroups
from anemoic.runtime.distributed.sharding import Sharding

BATCHES = 4


def read_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar in /proc/self/io")


def main(rank: int, world: int, port: int, out: str, payload: dict) -> None:
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    for case, plan_path in enumerate(payload["plans"]):
        read_case(rank, world, Path(out) / f"{case}-rank-{rank}.json", plan_path)
    dist.destroy_process_group()


def read_case(rank: int, world: int, out: Path, plan_path: str) -> None:
    plan = read_plan(plan_path)
    data = AnemoicDataModule(plan, global_rank=rank, world_size=world)
    loader = iter(data.train_dataloader())
    next(loader)  # the first batch opens the store and imports zarr's codecs: not counted
    before = read_bytes()
    batches = [next(loader) for _ in range(BATCHES)]
    sliced = read_bytes() - before
    order = data.train_sampler.order()[1:BATCHES + 1]
    whole_dataset = data.dataset("train")
    whole_dataset[order[-1] + 1 if order[-1] + 1 < len(whole_dataset) else 0]  # opens its store: not counted
    before = read_bytes()
    whole = torch.stack([whole_dataset[i] for i in order])
    whole_bytes = read_bytes() - before
    sharding = Sharding.build(plan, ProcessGroups(GroupLayout(world, rank, plan.parallel.gpus_per_model,
                                                              plan.parallel.read_group_size)),
                              data.store.metadata.grid_size, 1)
    assembled = torch.cat([sharding.assemble(b) for b in batches])
    expected = whole if not plan.parallel.keep_batch_sharded else whole[:, :, :, sharding.data_range]
    read = data.read_slice()
    record = {"rank": rank, "read": [read.start, read.stop], "bytes": sliced, "whole_bytes": whole_bytes,
              "grid_points": batches[0].shape[3], "assembled_equal": bool(torch.equal(assembled, expected))}
    out.write_text(json.dumps(record))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5]))
