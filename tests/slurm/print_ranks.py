"""Run by srun inside the test job: print, as one JSON line, what Lightning's SLURMEnvironment sees.

It reads the plan the job script passes (through ``read_plan``, as the
runtime would) so the test also proves the plan path in the script is right.
With ``--plan-only`` it skips Lightning (seconds of torch import) and reports
the plan and the array task, for the job-array test.
"""

from __future__ import annotations

import json
import os
import sys

from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import read_plan


def main() -> None:
    plan = read_plan(sys.argv[-1])
    if "--plan-only" in sys.argv:
        print(json.dumps({"array_task": os.environ.get("SLURM_ARRAY_TASK_ID"), "procid": os.environ["SLURM_PROCID"],
                          "plan_hash": plan_hash(plan), "member": plan.sweep.index if plan.sweep else None}),
              flush=True)
        return
    from lightning.fabric.plugins.environments import SLURMEnvironment

    env = SLURMEnvironment()
    print(json.dumps({
        "detected": SLURMEnvironment.detect(),
        "global_rank": env.global_rank(),
        "local_rank": env.local_rank(),
        "world_size": env.world_size(),
        "node_rank": env.node_rank(),
        "master_addr": env.main_address,
        "master_port": env.main_port,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cwd": os.getcwd(),
        "plan_hash": plan_hash(plan),
    }), flush=True)


if __name__ == "__main__":
    main()
