"""Write a build: the plan file(s) and the target's script, all atomically.

This is the part of ``anemoic build`` after compilation; it takes finished
plans (estimates filled), so it is usable and testable without the compiler.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anemoic.compiler.diagnostics import Diagnostic
from anemoic.compiler.targets import local, slurm
from anemoic.compiler.targets.layout import plan_paths
from anemoic.plan.canonical import plan_hash
from anemoic.plan.io import write_plan, write_text_atomic
from anemoic.plan.model import Plan


@dataclass(frozen=True)
class BuildOutput:
    plan_files: tuple[Path, ...]
    hashes: tuple[str, ...]
    script: Path | None
    diagnostics: tuple[Diagnostic, ...] = ()
    written: bool = True


def check_target(target: str, plans: Sequence[Plan], *, out_dir: Path, workdir: Path) -> list[Diagnostic]:
    if target == "slurm":
        return slurm.check_slurm(plans, out_dir=out_dir, workdir=workdir)
    return []


def write_build(target: str, plans: Sequence[Plan], *, source: str, out_dir: Path,
                workdir: Path) -> BuildOutput:
    """Check the target, then write ``plan.json`` (or one per sweep member) and the script.

    Nothing is written when a check finds an error; ``out_dir`` and ``workdir`` must be absolute.
    """
    diagnostics = check_target(target, plans, out_dir=out_dir, workdir=workdir)
    hashes = [plan_hash(plan) for plan in plans]
    paths = plan_paths(out_dir, len(plans))
    if any(d.severity == "error" for d in diagnostics):
        return BuildOutput(tuple(paths), tuple(hashes), None, tuple(diagnostics), written=False)
    for plan, path in zip(plans, paths):
        write_plan(plan, path)
    if target == "slurm":
        script = out_dir / "job.sbatch"
        text = slurm.render_sbatch(plans, source=source, out_dir=out_dir, workdir=workdir, hashes=hashes)
    else:
        script = out_dir / "run.sh"
        text = local.render_run_script(source=source, out_dir=out_dir, workdir=workdir, hashes=hashes)
    write_text_atomic(script, text, mode=0o755)
    return BuildOutput(tuple(paths), tuple(hashes), script, tuple(diagnostics))


def display_path(path: Path, workdir: Path) -> str:
    """``path`` relative to the working directory when it lies inside it (shorter, and stable in tests)."""
    try:
        return os.fspath(path.relative_to(workdir))
    except ValueError:
        return os.fspath(path)
