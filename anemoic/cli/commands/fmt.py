"""`anemoic fmt [--check] [--diff] FILE|DIR ...`: rewrite .anm files in their one layout.

Without flags each file that changes is rewritten in place and named (``formatted FILE``).
``--check`` writes nothing and exits 1 naming every file that would change (for CI); ``--diff``
writes nothing and prints a unified diff.  ``-`` formats standard input to standard output (for
editors).  A file that does not parse is named with its first syntax error and exits 1.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

EXIT_OK, EXIT_CHANGES, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("fmt", help="format .anm files (keeps every comment, never changes meaning)",
                            description="Rewrite experiment files in their one layout: indentation, spacing, "
                                        "aligned `=` in blocks.  Directories are searched for *.anm files.")
    parser.add_argument("files", nargs="+", metavar="FILE", help=".anm files or folders; `-` for stdin")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file would change")
    parser.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of the changes")
    parser.set_defaults(func=run)


def _expand(names: list[str]) -> tuple[list[str], list[str]]:
    """(files to format, names that cannot be read)."""
    found, missing = [], []
    for name in names:
        path = Path(name)
        if name == "-" or path.is_file():
            found.append(name)
        elif path.is_dir():
            found += sorted(str(p) for p in path.rglob("*.anm"))
        else:
            missing.append(name)
    return found, missing


def run(args: argparse.Namespace) -> int:
    from anemoic.compiler.formatter import FormatError, format_source

    files, missing = _expand(args.files)
    for name in missing:
        print(f"error: cannot read `{name}`: no such file or folder", file=sys.stderr)
    if missing:
        return EXIT_USAGE
    worst = EXIT_OK
    for name in files:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read `{name}`: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            formatted = format_source(text, "<stdin>" if name == "-" else name)
        except FormatError as exc:
            print(str(exc), file=sys.stderr)
            worst = EXIT_CHANGES
            continue
        if name == "-" and not (args.check or args.diff):
            sys.stdout.write(formatted)
            continue
        if formatted == text:
            continue
        if args.diff:
            sys.stdout.write(_diff(text, formatted, name))
        if args.check:
            print(f"would reformat {name}", file=sys.stderr if args.diff else sys.stdout)
            worst = EXIT_CHANGES
        elif not args.diff:
            Path(name).write_text(formatted, encoding="utf-8")
            print(f"formatted {name}")
    return worst


def _diff(before: str, after: str, name: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"{name} (original)", f"{name} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
