"""`anemoic doc [--format md|html] [-o DIR]`: the standard library's reference (components, their
parameters, types and defaults; block settings; stdlib presets), generated from the compiler."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("doc", help="render the standard library's reference as Markdown or HTML",
                            description="Render every component, block setting and stdlib preset, generated "
                                        "from the compiler's own tables.")
    parser.add_argument("--format", choices=("md", "html"), default="md", help="md (default) or html")
    parser.add_argument("-o", "--output", metavar="DIR", help="write DIR/stdlib.md (or .html) instead of printing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from anemoic.compiler.docgen import document, markdown, to_html

    nodes = document()
    text = markdown(nodes) if args.format == "md" else to_html(nodes)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    target = Path(args.output) / f"stdlib.{args.format}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write `{target}`: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0
