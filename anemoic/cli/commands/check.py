"""`anemoic check EXP.anm ...`: type-check experiments against the stdlib and their dataset.

Exit codes: 0 no errors (warnings allowed), 1 at least one error, 2 a file cannot be read
or the command line is wrong.  Imports only the compiler, never torch.  Results are cached
(``anemoic.cli.check_cache``) so re-checking unchanged files is nearly free.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("check", help="type-check experiments (.anm) without building them",
                            description="Check each experiment and print every diagnostic found.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="experiment files (.anm)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default) or json for editors and CI")
    parser.add_argument("--require-dataset", action="store_true",
                        help="treat a missing dataset store as an error (as `build` does)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    unreadable = [f for f in args.files if not (os.path.isfile(f) and os.access(f, os.R_OK))]
    for name in unreadable:
        why = "no such file" if not os.path.exists(name) else "not a readable file"
        print(f"error: cannot read `{name}`: {why}", file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    worst = EXIT_OK
    documents = []
    for name in args.files:
        output, errors = _check_one(name, args.format, args.require_dataset)
        if errors:
            worst = EXIT_ERRORS
        if args.format == "json":
            documents.append({"file": name, **json.loads(output)})
        else:
            if len(args.files) > 1:
                print(f"== {name}")
            print(output, end="")
    if args.format == "json":
        out = documents[0] if len(documents) == 1 else {"files": documents}
        print(json.dumps(out, indent=2, sort_keys=True))
    return worst


def _check_one(name: str, fmt: str, require_dataset: bool) -> tuple[str, bool]:
    """(rendered diagnostics, had errors): from the check cache when nothing it depends on changed."""
    from anemoic.cli import check_cache

    flags = f"{fmt}:{require_dataset}"
    if check_cache.enabled():
        hit = check_cache.lookup(name, flags)
        if hit is not None:
            return hit
    from anemoic.compiler.api import compile_file

    result = compile_file(name, require_dataset=require_dataset)
    output, errors = result.render(fmt), result.has_errors()
    # an `init` checkpoint is read when it exists, and runs add new ones at any time: such answers are not kept
    reads_checkpoint = any(p.training.init for p in result.plans) or any(d.code == "E0827" for d in result.diagnostics)
    if check_cache.enabled() and not reads_checkpoint:
        check_cache.save(name, flags, output, errors, [str(os.path.abspath(name)), *result.inputs],
                         list(result.stores))
    return output, errors
