"""`anemoic`: the experiment author's command line.

Each sub-command lives in ``anemoic.cli.commands.<name>`` and exposes
``register(subparsers)``; command modules import only argparse-level code at
module import time so that ``anemoic check`` starts without torch.
Exit codes: 0 ok, 1 diagnostics with errors, 2 usage or I/O errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("check", "build", "explain", "diff", "graph", "data", "fmt", "schema", "doc", "new", "lsp")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anemoic", description="Check and compile anemoic weather-model experiments."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"anemoic.cli.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
