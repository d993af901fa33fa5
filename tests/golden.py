"""Golden files: the one comparison of a produced text with the text kept beside a test.

``assert_golden(text, path)`` passes when ``path`` holds exactly ``text``.  A mismatch fails with a
unified diff (expected file first, produced text second); a missing file fails with the command that
creates it.  With ``ANEMOIC_UPDATE_GOLDEN=1`` the file is (re)written instead of compared, so after an
intended change::

    ANEMOIC_UPDATE_GOLDEN=1 pytest tests/...   # rewrite
    git diff                                   # review what changed, then commit

Also here: the small txtar-like case-file format the compiler's golden tests use (``parse_cases`` and
``format_cases``; ``tests/compiler/test_diagnostics.py`` describes the format).
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

UPDATE_VARIABLE = "ANEMOIC_UPDATE_GOLDEN"


def updating() -> bool:
    """True when golden files are to be (re)written rather than compared."""
    return os.environ.get(UPDATE_VARIABLE) == "1"


def golden_diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                 fromfile=f"{name} (golden)", tofile=f"{name} (produced)")
    return "".join(line if line.endswith("\n") else line + "\n\\ no newline at end\n" for line in lines)


def assert_golden(text: str, path: Path | str) -> None:
    """Compare ``text`` with the golden file ``path``; ``ANEMOIC_UPDATE_GOLDEN=1`` writes it instead."""
    __tracebackhide__ = True  # pytest shows the caller's line and this message, not this function
    path = Path(path)
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        return
    if not path.is_file():
        raise AssertionError(f"golden file {path} is missing; create it with "
                             f"`{UPDATE_VARIABLE}=1 pytest <this test>`, then review and commit it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        raise AssertionError(f"text differs from the golden file {path} "
                             f"(after an intended change: {UPDATE_VARIABLE}=1 pytest <this test>):\n"
                             + golden_diff(expected, text, path.name))


# -- txtar-like case files -------------------------------------------------------------------------------

_HEADER = re.compile(r"^-- (\S+) --$")


def parse_cases(text: str, origin: str = "<case>") -> tuple[str, list[tuple[str, str]]]:
    """(comment, [(section name, section text), ...]) of a case file.

    A section starts at a line ``-- NAME --`` and runs to the next such line or the end of the file;
    its text is kept byte for byte (with the newline before the next header).  Lines before the first
    header are a free comment.
    """
    comment: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line.rstrip("\n"))
        if header:
            sections.append((header.group(1), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            comment.append(line)
    names = [name for name, _ in sections]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"{origin}: section {duplicates[0]!r} appears twice")
    return "".join(comment), [(name, "".join(lines)) for name, lines in sections]


def format_cases(comment: str, sections: list[tuple[str, str]]) -> str:
    """The inverse of ``parse_cases``: ``parse_cases(format_cases(c, s)) == (c, s)`` for texts that end in a
    newline and hold no header lines."""
    out = [comment]
    for name, body in sections:
        if body and not body.endswith("\n"):
            raise ValueError(f"section {name!r} must end with a newline")
        if any(_HEADER.match(line) for line in body.splitlines()):
            raise ValueError(f"section {name!r} holds a line that reads as a section header")
        out.append(f"-- {name} --\n{body}")
    return "".join(out)
