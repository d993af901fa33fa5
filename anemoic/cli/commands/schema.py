"""`anemoic schema`: print the plan's JSON Schema (the committed ``plan.schema.json``), for editors
and for tools that read or write plan files."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("schema", help="print the JSON Schema of plan.json files",
                            description="Print the JSON Schema that every plan.json file validates against.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anemoic.plan.schema import SCHEMA_PATH

    sys.stdout.write(SCHEMA_PATH.read_text(encoding="utf-8"))
    return 0
