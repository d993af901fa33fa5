"""State shared by the block checkers: diagnostics, the evaluator and the source map."""

from __future__ import annotations

from dataclasses import dataclass, field

from anemoic.compiler import ast
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink, Span, did_you_mean
from anemoic.compiler.evaluate import Evaluator


class Settings(dict):  # type: ignore[type-arg]
    """A block's evaluated settings; ``given`` also holds keys whose value failed to check and
    ``had_unknown`` says a key was not recognised, so "missing" errors do not pile onto them."""

    given: set[str]
    had_unknown: bool = False

    def missing(self, key: str) -> bool:
        return key not in self.given and not self.had_unknown


@dataclass
class Context:
    sink: Sink
    evaluator: Evaluator
    main: str  # the experiment module's key
    main_file: str
    spans: dict[str, Span] = field(default_factory=dict)  # plan field path -> where it was set

    def mark(self, path: str, where: v.Value | Span | None) -> None:
        """Record which source location set the plan field ``path``."""
        span = where if isinstance(where, Span) or where is None else where.span
        if span is not None:
            self.spans[path] = span

    def span_of(self, path: str) -> Span:
        return self.spans.get(path) or self.file_span()

    def source_map(self) -> dict[str, str]:
        return {path: span.location() for path, span in sorted(self.spans.items())}

    def file_span(self) -> Span:
        return Span(self.main_file, 1, 1, 1, 2)

    def read_block(self, section: str, block: ast.Block | None, allowed: tuple[str, ...],
                   module_key: str | None = None) -> Settings:
        """Evaluate a ``{ key = value }`` block; unknown and repeated keys are diagnosed."""
        out = Settings()
        out.given = set()
        spans: dict[str, Span] = {}
        for setting in block.settings if block else ():
            out.given.add(setting.key)
            if setting.key not in allowed:
                out.had_unknown = True
                self.sink.error("E0208", f"`{setting.key}` is not a setting of `{section}`", setting.span,
                                hint=did_you_mean(setting.key, allowed, f"`{section}` accepts: {', '.join(allowed)}"))
                continue
            if setting.key in spans:
                self.sink.error("E0209", f"`{setting.key}` is set twice in `{section}`", setting.span,
                                notes=(("first set here", spans[setting.key]),), hint="keep one of them")
                continue
            spans[setting.key] = setting.span
            value = self.evaluator.eval(setting.value, module_key or self.main)
            if value is not None:
                out[setting.key] = value
        return out
