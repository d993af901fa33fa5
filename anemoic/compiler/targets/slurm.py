"""The SLURM target: one ``job.sbatch`` (a job array for a sweep) correct for Lightning on SLURM.

Lightning's ``SLURMEnvironment`` takes ranks from srun: one task per GPU
(``--ntasks-per-node`` = GPUs per node), the node list gives ``MASTER_ADDR``,
and ``--signal=SIGUSR1@lead`` + ``--requeue`` let it checkpoint and requeue
before the time limit.  A CPU plan (``parallel.accelerator == "cpu"``) keeps
one task per "device" but asks for no GPUs, so the same script runs on CPU
partitions and on the test cluster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from anemoic.compiler.diagnostics import Diagnostic, span_for
from anemoic.compiler.targets.layout import plan_note
from anemoic.compiler.targets.render import render
from anemoic.plan.model import Plan

RUNTIME_PROGRAM = "anemoi-runtime exec"
_NAMES_LIGHTNING_IGNORES = ("bash", "interactive")  # SLURMEnvironment.detect() is off for these job names
_DIRECTIVE_SAFE = re.compile(r"^[^\s\"'`$\\]+$")


def format_time_limit(seconds: int) -> str:
    """SLURM's ``[D-]HH:MM:SS`` for a number of seconds."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}-{clock}" if days else clock


def job_name(plan: Plan) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", plan.name) or "anemoic"
    return f"{name}-run" if name in _NAMES_LIGHTNING_IGNORES else name


def check_slurm(plans: Sequence[Plan], *, out_dir: Path, workdir: Path) -> list[Diagnostic]:
    """Problems that make the job script wrong or the job die before it can checkpoint."""
    first = plans[0]
    site, found = first.site, []
    for plan in plans[1:]:
        if (plan.site, plan.parallel) != (site, first.parallel):
            found.append(Diagnostic("E0901", "the sweep's members need different SLURM resources (site or "
                                    "parallel settings differ), so they cannot share one job array",
                                    span_for(plan.source_map, "sweep"), "sweep only over settings that keep the "
                                    "allocation the same, or build the members separately"))
            break
    for label, path in (("output directory", out_dir), ("working directory", workdir)):
        if not _DIRECTIVE_SAFE.match(str(path)):
            found.append(Diagnostic("E0902", f"the {label} {str(path)!r} contains spaces or shell characters, "
                                    "which #SBATCH lines cannot hold", None,
                                    "build into a directory whose path has no spaces or quotes"))
    if site.time_limit_s <= site.signal_lead_s:
        found.append(Diagnostic("E0903", f"the job's time limit ({format_time_limit(site.time_limit_s)}) is not "
                                f"longer than the signal lead ({site.signal_lead_s} s): the job would be told "
                                "to checkpoint before it starts", span_for(first.source_map, "site.time_limit_s"),
                                "raise site time or lower the signal lead"))
    for directive in site.extra_directives:
        if not directive.startswith("--"):
            found.append(Diagnostic("E0905", f"extra SLURM directive {directive!r} must start with '--'",
                                    span_for(first.source_map, "site.extra_directives"), "write e.g. \"--exclusive\""))
    return found


def render_sbatch(plans: Sequence[Plan], *, source: str, out_dir: Path, workdir: Path, hashes: list[str],
                  program: str = RUNTIME_PROGRAM) -> str:
    """The job script for ``plans`` (one plan, or the members of a sweep as a job array)."""
    plan = plans[0]
    site, parallel = plan.site, plan.parallel
    array = f"0-{len(plans) - 1}" if len(plans) > 1 else ""
    log_name = "slurm-%A_%a.out" if array else "slurm-%j.out"
    return render(
        "job.sbatch.j2",
        source=source,
        plan_note=plan_note(hashes),
        job_name=job_name(plan),
        nodes=parallel.nodes,
        tasks_per_node=parallel.processes_per_node,
        gpus_per_node=0 if parallel.accelerator == "cpu" else parallel.processes_per_node,
        cpus_per_task=site.cpus_per_task,
        mem=site.mem,
        time=format_time_limit(site.time_limit_s),
        signal_lead_s=site.signal_lead_s,
        log_pattern=str(out_dir / log_name),
        workdir=str(workdir),
        partition=site.partition,
        account=site.account,
        qos=site.qos,
        array=array,
        extra_directives=site.extra_directives,
        modules=site.modules,
        venv=site.venv,
        out_dir=str(out_dir),
        program=program,
        model_groups=model_groups_note(plan),
    )


def model_groups_note(plan: Plan) -> str:
    """How srun's ranks form model groups (empty without model sharding): consecutive ranks, placed in blocks
    (``--distribution=block``), so a group lies on one node whenever it fits in one."""
    parallel = plan.parallel
    shards = parallel.gpus_per_model
    if shards <= 1:
        return ""
    world = parallel.nodes * parallel.processes_per_node
    groups = ", ".join(f"{g}-{g + shards - 1}" for g in range(0, min(world, 4 * shards), shards))
    more = ", ..." if world > 4 * shards else ""
    where = "one node each" if parallel.processes_per_node % shards == 0 else "spanning nodes"
    reading = f"; read groups of {parallel.read_group_size}" if parallel.read_group_size > 1 else ""
    return (f"{world // shards} model group(s) of {shards} ranks sharded by {parallel.shard_strategy} "
            f"(ranks {groups}{more}: {where}){reading}; data-parallel size {world // shards}")
