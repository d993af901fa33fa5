"""Point a build-time diagnostic at the source line that set a plan field (through the source map)."""

from __future__ import annotations

import re

from anemoic.compiler.diagnostics import Span
from anemoic.plan.model import Plan
from anemoic.plan.paths import source_of

_LOCATION = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+)$")


def parse_location(location: str) -> Span | None:
    """``exp.anm:12:8`` -> a one-character Span (None when the text is not a location)."""
    match = _LOCATION.match(location)
    if match is None:
        return None
    line, column = int(match["line"]), int(match["column"])
    return Span(match["file"], line, column, line, column + 1)


def span_for(plan: Plan, path: str) -> Span | None:
    location = source_of(plan.source_map, path)
    return parse_location(location) if location else None
