"""`anemoic lsp`: the language server for editors, over stdio (``anemoic.cli.lsp_server``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("lsp", help="run the language server (LSP over stdio) for editors",
                            description="Speak the Language Server Protocol on stdin/stdout: diagnostics as you "
                                        "type, hover, completion, formatting and document symbols.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anemoic.cli.lsp_server import serve

    serve()
    return 0
