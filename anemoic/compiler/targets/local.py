"""The local target: ``DIR/run.sh`` runs the plan(s) with ``anemoi-runtime exec`` from the build's directory."""

from __future__ import annotations

from pathlib import Path

from anemoic.compiler.targets.layout import plan_note
from anemoic.compiler.targets.render import render

RUNTIME_PROGRAM = "anemoi-runtime exec"


def render_run_script(*, source: str, out_dir: Path, workdir: Path, hashes: list[str],
                      program: str = RUNTIME_PROGRAM) -> str:
    """The script text; ``workdir`` is where relative paths in the plan are resolved (the build's cwd)."""
    return render("run.sh.j2", source=source, out_dir=str(out_dir), workdir=str(workdir),
                  script=str(out_dir / "run.sh"), members=len(hashes), plan_note=plan_note(hashes),
                  program=program)
