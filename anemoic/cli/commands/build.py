"""`anemoic build EXP.anm [--target local|slurm] [-o DIR]`: compile, estimate, write the plan and its script.

Also home of ``compile_plans``, the "compile or explain why not" step that
``explain`` and ``diff`` share.  Heavy modules load inside the handlers so
that registering the command costs nothing at ``anemoic`` start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anemoic.plan.model import Plan

from anemoic.compiler.targets import TARGETS

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2


class CommandFailed(Exception):
    """A command stops with a message already meant for the user, and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("build", help="compile an experiment into plan.json and a run script",
                            description="Compile an experiment (its dataset must exist), fill the compile-time "
                                        "estimates and write DIR/plan.json (DIR/<member>/plan.json for a "
                                        "sweep) with a script that runs it.")
    parser.add_argument("file", help="the experiment (.anm)")
    parser.add_argument("--target", choices=TARGETS, default="local",
                        help="local: DIR/run.sh; slurm: DIR/job.sbatch (a job array for a sweep)")
    parser.add_argument("-o", "--out", metavar="DIR", help="output directory (default: build/<experiment name>)")
    parser.set_defaults(func=run)


def compile_plans(path: str, *, require_dataset: bool, to_stderr: bool = False) -> tuple[Plan, ...]:
    """Compile ``path``; print its diagnostics (to stderr for commands whose stdout is data);
    raise ``CommandFailed`` when there is no plan."""
    source = Path(path)
    if not source.is_file():
        raise CommandFailed(f"error: {path}: no such experiment file", EXIT_USAGE)
    from anemoic.compiler.api import compile_file

    result = compile_file(source, require_dataset=require_dataset)
    if result.diagnostics:
        print(result.render("text"), end="", file=sys.stderr if to_stderr else sys.stdout)
    if result.has_errors() or not result.plans:
        raise CommandFailed("", EXIT_DIAGNOSTICS)
    return tuple(result.plans)


def load_plans(path: str, *, require_dataset: bool = False) -> tuple[Plan, ...]:
    """Plans from an experiment (compiled) or from a built ``plan.json`` (read and verified)."""
    if path.endswith(".json"):
        from anemoic.plan.errors import PlanError
        from anemoic.plan.io import read_plan_with_notes

        try:
            plan, notes = read_plan_with_notes(path)
        except PlanError as exc:
            raise CommandFailed(f"error: {exc}", EXIT_USAGE) from None
        for note in notes:  # a plan of an older schema is read, and the reader says how
            print(note, file=sys.stderr)
        return (plan,)
    return compile_plans(path, require_dataset=require_dataset, to_stderr=True)


def pick_member(plans: tuple[Plan, ...], member: int, path: str) -> Plan:
    """One plan of a sweep (member 0 when there is no sweep)."""
    if not 0 <= member < len(plans):
        raise CommandFailed(f"error: {path} has {len(plans)} plan(s); --member must be 0..{len(plans) - 1}",
                            EXIT_USAGE)
    return plans[member]


def run(args: argparse.Namespace) -> int:
    try:
        return _build(args)
    except CommandFailed as failed:
        if str(failed):
            print(str(failed), file=sys.stderr)
        return failed.code


def _build(args: argparse.Namespace) -> int:
    from anemoic.compiler.diagnostics import render_one
    from anemoic.compiler.estimates import with_estimates_all
    from anemoic.compiler.targets.outputs import write_build
    from anemoic.compiler.targets.summary import render_summary
    from anemoic.plan.errors import PlanError

    plans = compile_plans(args.file, require_dataset=True)
    workdir = Path.cwd().resolve()
    out_dir = Path(args.out) if args.out else Path("build") / Path(args.file).stem
    out_dir = (workdir / out_dir).resolve()
    filled, notes = with_estimates_all(plans)
    try:
        output = write_build(args.target, filled, source=args.file, out_dir=out_dir, workdir=workdir)
    except PlanError as exc:
        raise CommandFailed(f"error: {exc}", EXIT_USAGE) from None
    except OSError as exc:
        raise CommandFailed(f"error: cannot write to {out_dir}: {exc.strerror or exc}", EXIT_USAGE) from None
    sources = _sources([*notes, *output.diagnostics])
    for diagnostic in [*notes, *output.diagnostics]:
        print(render_one(diagnostic, sources) + "\n")
    if not output.written:
        print("build stopped: nothing was written")
        return EXIT_DIAGNOSTICS
    print(render_summary(filled, output, source=args.file, target=args.target, workdir=workdir), end="")
    return EXIT_OK


def _sources(diagnostics: list) -> dict[str, str]:
    """Text of the files the diagnostics point into, for their source excerpts."""
    out: dict[str, str] = {}
    for diagnostic in diagnostics:
        if diagnostic.span is not None and diagnostic.span.file not in out:
            try:
                out[diagnostic.span.file] = Path(diagnostic.span.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return out
