"""`anemoic check EXP.anm ...`: type-check experiments against the stdlib and their dataset.

Exit codes: 0 no errors (warnings allowed), 1 at least one error, 2 a file cannot be read
or the command line is wrong.  Imports only the compiler, never torch.
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
    from anemoic.compiler.api import compile_file

    unreadable = [f for f in args.files if not os.path.isfile(f)]
    for name in unreadable:
        print(f"error: cannot read `{name}`: no such file", file=sys.stderr)
    if unreadable:
        return EXIT_USAGE
    worst = EXIT_OK
    documents = []
    for name in args.files:
        result = compile_file(name, require_dataset=args.require_dataset)
        if any(d.code == "E0006" for d in result.diagnostics):
            print(result.render(), file=sys.stderr, end="")
            return EXIT_USAGE
        if result.has_errors():
            worst = EXIT_ERRORS
        if args.format == "json":
            documents.append({"file": name, **json.loads(result.render("json"))})
        else:
            if len(args.files) > 1:
                print(f"== {name}")
            print(result.render(), end="")
    if args.format == "json":
        out = documents[0] if len(documents) == 1 else {"files": documents}
        print(json.dumps(out, indent=2, sort_keys=True))
    return worst
