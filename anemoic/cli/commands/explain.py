"""`anemoic explain EXP.anm FIELD`: a field's resolved value and the source line that set it (a blame view).

FIELD is a plan path (``training.optimiser.lr``, ``variables[2t].normaliser``);
a prefix (``training``, ``variables[2t]``) lists the subtree, one line per value.
Works on a built ``plan.json`` too, through the source map stored in it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from anemoic.cli.commands.build import EXIT_OK, EXIT_USAGE, CommandFailed, load_plans, pick_member

NO_SOURCE = "(default or derived)"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("explain", help="show a plan field's value and where it was set",
                            description="Print the resolved value of FIELD (or of every field under a "
                                        "prefix) and the file:line:col that set it.")
    parser.add_argument("file", help="the experiment (.anm) or a built plan.json")
    parser.add_argument("field", help="a plan field path, e.g. training.optimiser.lr, or a prefix such as training")
    parser.add_argument("--member", type=int, default=0, help="sweep member to explain (default 0)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        plans = load_plans(args.file)
        plan = pick_member(plans, args.member, args.file)
        print(explain(plan, args.field, plans=plans), end="")
        return EXIT_OK
    except CommandFailed as failed:
        if str(failed):
            print(str(failed), file=sys.stderr)
        return failed.code


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _excerpt(location: str) -> list[str]:
    """The source line of ``file:line:col`` with a caret, when the file can be read."""
    from anemoic.compiler.diagnostics import parse_location

    span = parse_location(location)
    if span is None:
        return []
    try:
        lines = Path(span.file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    if not 1 <= span.line <= len(lines):
        return []
    number = str(span.line)
    text = lines[span.line - 1].expandtabs(1).rstrip()
    return [f"  {number} | {text}", f"  {' ' * len(number)} | {' ' * (span.column - 1)}^"]


def _unknown(field: str, paths: list[str]) -> CommandFailed:
    prefixes = set(paths)
    from anemoic.plan.paths import parent

    for path in paths:
        current = parent(path)
        while current is not None:
            prefixes.add(current)
            current = parent(current)
    close = difflib.get_close_matches(field, sorted(prefixes), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else "; top-level fields: " + ", ".join(
        sorted({p.split(".")[0].split("[")[0] for p in paths}))
    return CommandFailed(f"error: the plan has no field {field!r}{hint}", EXIT_USAGE)


def explain(plan: Any, field: str, *, plans: tuple[Any, ...] = ()) -> str:
    """The blame text for ``field`` of ``plan`` (``plans``: all sweep members, to show swept values)."""
    from anemoic.plan.convert import plan_to_dict
    from anemoic.plan.paths import flatten, source_of, under

    flat = flatten(plan_to_dict(plan))
    selected = [path for path in flat if under(path, field)]
    if not selected:
        raise _unknown(field, list(flat))
    header = []
    if plan.sweep is not None:
        values = " ".join(f"{k}={_value(v)}" for k, v in sorted(plan.sweep.values.items()))
        header.append(f"(member {plan.sweep.index} of a {plan.sweep.count}-member sweep: {values})")
    if selected == [field]:
        location = source_of(plan.source_map, field)
        lines = [*header, f"{field} = {_value(flat[field])}", f"  set at {location or NO_SOURCE}"]
        if location:
            lines.extend(_excerpt(location))
        lines.extend(_swept_values(field, plans))
        return "\n".join(lines) + "\n"
    rows = [(path, _value(flat[path]), source_of(plan.source_map, path) or NO_SOURCE) for path in selected]
    name_width = max(len(path) for path, _, _ in rows)
    value_width = min(max(len(value) for _, value, _ in rows), 40)
    lines = [*header, f"{field}: {len(rows)} value{'s' if len(rows) != 1 else ''}"]
    for path, value, location in rows:
        shown = value if len(value) <= 40 else value[:37] + "..."
        lines.append(f"  {path.ljust(name_width)}  {shown.ljust(value_width)}  {location}")
    return "\n".join(lines) + "\n"


def _swept_values(field: str, plans: tuple[Any, ...]) -> list[str]:
    if len(plans) < 2:
        return []
    from anemoic.plan.convert import plan_to_dict
    from anemoic.plan.paths import flatten

    values = [flatten(plan_to_dict(p)).get(field) for p in plans]
    if all(v == values[0] for v in values):
        return []
    return ["  varies across the sweep: " + ", ".join(f"[{i}] {_value(v)}" for i, v in enumerate(values))]
