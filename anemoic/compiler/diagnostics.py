"""Diagnostics: what the checker tells a user, located in their source.

Every diagnostic has a stable code (``E0xxx`` error, ``W0xxx`` warning, listed in
``docs/language.md``), a span, a message written for a scientist and an optional
hint.  Rendering follows the familiar ``file:line:col`` + source line + caret
layout so editors and terminals both read it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from anemoic.plan.paths import source_of


@dataclass(frozen=True)
class Span:
    """A region of a source file; lines and columns start at 1, the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to(self, other: Span) -> Span:
        """The span from the start of this one to the end of ``other``."""
        if other.file != self.file:
            return self
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)


_LOCATION = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+)$")


def parse_location(location: str) -> Span | None:
    """``exp.anm:12:8`` (a source-map entry) -> a one-character Span; None when the text is not a location."""
    match = _LOCATION.match(location)
    if match is None:
        return None
    line, column = int(match["line"]), int(match["column"])
    return Span(match["file"], line, column, line, column + 1)


def span_for(source_map: Mapping[str, str], path: str) -> Span | None:
    """Where the plan field ``path`` was set, through a plan's source map (its nearest recorded ancestor)."""
    location = source_of(source_map, path)
    return parse_location(location) if location else None


def did_you_mean(name: str, candidates: Iterable[str], fallback: str | None = None, *, prefix: str = "") -> str | None:
    """The hint for a misspelt ``name``: the closest candidate, else ``fallback``."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{prefix}{close[0]}`?" if close else fallback


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    hint: str | None = None
    notes: tuple[tuple[str, Span], ...] = ()

    @property
    def severity(self) -> str:
        return "error" if self.code.startswith("E") else "warning"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "severity": self.severity, "message": self.message,
                                  "hint": self.hint}
        if self.span is not None:
            out.update(file=self.span.file, line=self.span.line, column=self.span.column,
                       end_line=self.span.end_line, end_column=self.span.end_column)
        out["notes"] = [{"message": m, "location": s.location()} for m, s in self.notes]
        return out


@dataclass
class Sink:
    """Collects diagnostics so one run reports every mistake it can find."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None,
              notes: tuple[tuple[str, Span], ...] = ()) -> None:
        self.add(Diagnostic(code, message, span, hint, notes))

    warn = error  # the code's first letter decides the severity

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.items:
            self.items.append(diagnostic)

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def error_count(self) -> int:
        return sum(d.severity == "error" for d in self.items)


def _sort_key(d: Diagnostic) -> tuple[object, ...]:
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.column, d.code)


def sorted_diagnostics(items: list[Diagnostic] | tuple[Diagnostic, ...]) -> tuple[Diagnostic, ...]:
    return tuple(sorted(items, key=_sort_key))


def _excerpt(span: Span, sources: dict[str, str]) -> list[str]:
    text = sources.get(span.file)
    if text is None:
        return []
    lines = text.splitlines()
    if not 1 <= span.line <= len(lines):
        return []
    line = lines[span.line - 1].expandtabs(1)
    if len(line) > 200:  # keep huge generated lines readable
        start = max(0, span.column - 80)
        line = line[start:start + 160]
        col = span.column - start
    else:
        col = span.column
    end = span.end_column if span.end_line == span.line else len(line) + 1
    width = max(1, min(end, len(line) + 1) - col)
    gutter = " " * len(str(span.line))
    return [f"{gutter} |", f"{span.line} | {line}", f"{gutter} | {' ' * (col - 1)}{'^' * width}"]


def render_one(d: Diagnostic, sources: dict[str, str]) -> str:
    out = [f"{d.severity}[{d.code}]: {d.message}"]
    pad = " " * (len(str(d.span.line)) + 1 if d.span is not None else 2)
    if d.span is not None:
        out.append(f"  --> {d.span.location()}")
        out.extend(_excerpt(d.span, sources))
    for message, span in d.notes:
        out.append(f"{pad}= note: {message} ({span.location()})")
    if d.hint:
        out.append(f"{pad}= hint: {d.hint}")
    return "\n".join(out)


def summary(items: tuple[Diagnostic, ...], plans: int) -> str:
    errors = sum(d.severity == "error" for d in items)
    warnings = len(items) - errors
    if errors:
        return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}: not checked"
    made = f"{plans} plan{'s' * (plans != 1)}"
    return f"ok: {made}, {warnings} warning{'s' * (warnings != 1)}"


def render_text(items: tuple[Diagnostic, ...], sources: dict[str, str], plans: int) -> str:
    parts = [render_one(d, sources) for d in items]
    parts.append(summary(items, plans))
    return "\n\n".join(parts) + "\n"


def render_json(items: tuple[Diagnostic, ...], plans: int) -> str:
    errors = sum(d.severity == "error" for d in items)
    doc = {"ok": errors == 0, "errors": errors, "warnings": len(items) - errors, "plans": plans,
           "diagnostics": [d.to_json() for d in items]}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
