"""Source text -> syntax tree.  Lark's LALR parser calls the transformer at each reduction,
so building the tree never recurses (deep input cannot overflow Python's stack)."""

from __future__ import annotations

import datetime
import re
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput

from anemoic.compiler import ast
from anemoic.compiler.diagnostics import Sink, Span
from anemoic.compiler.parse_errors import describe_parse_error
from anemoic.grammar import GRAMMAR_PATH, cache_path

MAX_SOURCE_BYTES = 500_000
MAX_NESTING = 64
MAX_SYNTAX_ERRORS = 10
RECOVERY_LIMIT = 100_000  # characters: larger files report their first syntax error only
_DECLARATION_START = re.compile(r"(import|let|dataset|variables|graph|model|task|loss|train|parallel|site|outputs"
                                r"|tracking|sweep)\b")

_parser: Lark | None = None


def _span_of(item: Any, file: str) -> Span:
    if isinstance(item, Token):
        return Span(file, item.line or 1, item.column or 1, item.end_line or item.line or 1,
                    item.end_column or (item.column or 1) + len(item))
    return item.span


class _ToAst(Transformer):  # type: ignore[type-arg]
    """One method per grammar rule; ``file`` is set before each parse."""

    file = "<string>"

    def _span(self, first: Any, last: Any) -> Span:
        return _span_of(first, self.file).to(_span_of(last, self.file))

    def _tok(self, tok: Token) -> Span:
        return _span_of(tok, self.file)

    # ---- top level
    def start(self, items: list[Any]) -> ast.Module:
        return ast.Module(self.file, tuple(i for i in items if i is not None and not isinstance(i, Token)))

    def empty(self, _: list[Any]) -> None:
        return None

    def import_decl(self, c: list[Any]) -> ast.Import:
        module, is_path, span = c[1]
        names = c[2] if len(c) > 2 else ()
        return ast.Import(module, is_path, names, self._tok(c[0]).to(names[-1].span if names else span))

    def module_ref(self, c: list[Any]) -> tuple[str, bool, Span]:
        if isinstance(c[0], Token):
            return _unquote(c[0]), True, self._tok(c[0])
        return c[0][0], False, c[0][1]

    def dotted_name(self, c: list[Token]) -> tuple[str, Span]:
        return ".".join(str(t) for t in c), self._span(c[0], c[-1])

    def import_names(self, c: list[Token]) -> tuple[ast.Name, ...]:
        return tuple(ast.Name(str(t), self._tok(t)) for t in c)

    def _binding(self, kind: str, c: list[Any], block: ast.Block | None = None) -> ast.Binding:
        last = block if block is not None else c[2]
        return ast.Binding(kind, ast.Name(str(c[1]), self._tok(c[1])), c[2], block, self._span(c[0], last))

    def let_decl(self, c: list[Any]) -> ast.Binding:
        return self._binding("let", c)

    def graph_decl(self, c: list[Any]) -> ast.Binding:
        return self._binding("graph", c)

    def model_decl(self, c: list[Any]) -> ast.Binding:
        return self._binding("model", c)

    def loss_decl(self, c: list[Any]) -> ast.Binding:
        return self._binding("loss", c)

    def dataset_decl(self, c: list[Any]) -> ast.Binding:
        return self._binding("dataset", c, c[3] if len(c) > 3 else None)

    def _section(self, c: list[Any], name: Token | None, ref: Token | None, block: ast.Block | None,
                 value: ast.Expr | None = None) -> ast.Section:
        kind = str(c[0])
        last = block if block is not None else value
        return ast.Section(kind, ast.Name(str(name), self._tok(name)) if name is not None else None,
                           ast.Name(str(ref), self._tok(ref)) if ref is not None else None,
                           block, value, self._span(c[0], last))

    def variables_decl(self, c: list[Any]) -> ast.Section:
        return self._section(c, c[1], None, c[2])

    def task_decl(self, c: list[Any]) -> ast.Section:
        return self._section(c, c[1], c[2], c[3])

    def train_decl(self, c: list[Any]) -> ast.Section:
        return self._section(c, None, None, c[1])

    parallel_decl = outputs_decl = tracking_decl = train_decl

    def site_decl(self, c: list[Any]) -> ast.Section:
        return self._section(c, c[1] if len(c) == 3 else None, None, c[-1])

    def tracking_value(self, c: list[Any]) -> ast.Section:
        return self._section(c, None, None, None, c[1])

    def sweep_decl(self, c: list[Any]) -> ast.Sweep:
        return ast.Sweep(ast.Name(str(c[1]), self._tok(c[1])), c[2], self._span(c[0], c[2]))

    def block(self, c: list[Any]) -> ast.Block:
        settings = tuple(s for s in c if isinstance(s, ast.Setting))
        return ast.Block(settings, self._span(c[0], c[-1]))

    def setting(self, c: list[Any]) -> ast.Setting:
        return ast.Setting(str(c[0]), c[1], self._tok(c[0]))

    # ---- expressions
    def with_expr(self, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("with", c[0], c[1], self._span(c[0], c[1]))

    def except_expr(self, c: list[Any]) -> ast.BinOp:
        return ast.BinOp("except", c[0], c[1], self._span(c[0], c[1]))

    def rollout_expr(self, c: list[Any]) -> ast.Rollout:
        by = next((x[1] for x in c[2:] if isinstance(x, tuple) and x[0] == "by"), None)
        every = next((x for x in c[2:] if isinstance(x, tuple) and x[0] == "every"), None)
        last = every[2] if every else (by if by is not None else c[1])
        return ast.Rollout(c[0], c[1], by, every[1] if every else None, self._span(c[0], last))

    def rollout_by(self, c: list[Any]) -> tuple[str, Any]:
        return ("by", c[0])

    def rollout_every(self, c: list[Any]) -> tuple[str, int, Token]:
        return ("every", int(c[0]) if len(c) == 2 else 1, c[-1])

    def _bin(self, op: str, c: list[Any]) -> ast.BinOp:
        return ast.BinOp(op, c[0], c[1], self._span(c[0], c[1]))

    def range_expr(self, c: list[Any]) -> ast.BinOp:
        return self._bin("..", c)

    def add(self, c: list[Any]) -> ast.BinOp:
        return self._bin("+", c)

    def sub(self, c: list[Any]) -> ast.BinOp:
        return self._bin("-", c)

    def mul(self, c: list[Any]) -> ast.BinOp:
        return self._bin("*", c)

    def div(self, c: list[Any]) -> ast.BinOp:
        return self._bin("/", c)

    def neg(self, c: list[Any]) -> ast.Unary:
        return ast.Unary("-", c[0], c[0].span)

    def call(self, c: list[Any]) -> ast.Call:
        args = c[1] if len(c) > 1 and c[1] is not None else ()
        last = args[-1].span if args else c[0].span
        return ast.Call(c[0], args, c[0].span.to(last))

    def attribute(self, c: list[Any]) -> ast.Attribute:
        return ast.Attribute(c[0], str(c[1]), self._span(c[0], c[1]))

    def steps(self, c: list[Any]) -> ast.Steps:
        return ast.Steps(c[0], c[0].span)

    def args(self, c: list[Any]) -> tuple[ast.Arg, ...]:
        return tuple(a if isinstance(a, ast.Arg) else ast.Arg(None, a, a.span) for a in c
                     if not isinstance(a, Token))

    def keyword_arg(self, c: list[Any]) -> ast.Arg:
        return ast.Arg(str(c[0]), c[1], self._span(c[0], c[1]))

    def _lit(self, kind: str, value: object, tok: Token) -> ast.Literal:
        return ast.Literal(kind, value, self._tok(tok))

    def int_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("int", int(c[0]), c[0])

    def float_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("float", float(c[0]), c[0])

    def string_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("string", _unquote(c[0]), c[0])

    def digit_word(self, c: list[Token]) -> ast.Literal:
        return self._lit("word", str(c[0]), c[0])

    def date_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("date", str(c[0]), c[0])

    def true_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("bool", True, c[0])

    def false_lit(self, c: list[Token]) -> ast.Literal:
        return self._lit("bool", False, c[0])

    def name(self, c: list[Token]) -> ast.Name:
        return ast.Name(str(c[0]), self._tok(c[0]))

    def list_lit(self, c: list[Any]) -> ast.ListExpr:
        items = tuple(x for x in c if x is not None and not isinstance(x, Token))
        return ast.ListExpr(items, self._span(c[0], c[-1]))

    def record(self, c: list[Any]) -> ast.RecordExpr:
        entries = tuple(x for x in c if isinstance(x, ast.Entry))
        return ast.RecordExpr(entries, self._span(c[0], c[-1]))

    def entry(self, c: list[Any]) -> ast.Entry:
        key = _unquote(c[0]) if c[0].type == "STRING" else str(c[0])
        return ast.Entry(key, c[1], self._tok(c[0]))


def _unquote(tok: Token) -> str:
    return bytes(str(tok)[1:-1], "utf-8").decode("unicode_escape", errors="replace") if "\\" in tok \
        else str(tok)[1:-1]


def get_parser() -> Lark:
    global _parser
    if _parser is None:
        _parser = Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True,
                       maybe_placeholders=True, transformer=_ToAst(), cache=cache_path())
    return _parser


def _nesting_error(text: str, file: str) -> Span | None:
    depth = 0
    line, col = 1, 1
    for ch in text:
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                return Span(file, line, col, line, col + 1)
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
    return None


def parse(text: str, file: str, sink: Sink) -> ast.Module | None:
    """Parse one file; on a syntax error add a diagnostic and return None."""
    if len(text) > MAX_SOURCE_BYTES:
        sink.error("E0005", f"this file is too large to be an experiment ({len(text)} characters)",
                   Span(file, 1, 1, 1, 2), hint=f"experiment files are limited to {MAX_SOURCE_BYTES} characters")
        return None
    deep = _nesting_error(text, file)
    if deep is not None:
        sink.error("E0004", f"brackets are nested more than {MAX_NESTING} deep", deep,
                   hint="split the expression into `let` bindings")
        return None
    parser = get_parser()
    transformer = parser.options.transformer
    transformer.file = file
    current: str | None = text
    failed = False
    for _ in range(MAX_SYNTAX_ERRORS):
        try:
            module = parser.parse(current)
        except UnexpectedInput as exc:
            failed = True
            sink.add(describe_parse_error(exc, text, file, parser))
            if len(text) > RECOVERY_LIMIT:  # re-parsing after each error would take too long
                break
            current = _without_declaration(current, getattr(exc, "line", 0) or 0,  # type: ignore[arg-type]
                                           getattr(exc, "column", 0) or 0)
            if current is None:
                break
            continue
        except RecursionError:
            sink.error("E0004", "this expression is too long to check", Span(file, 1, 1, 1, 2),
                       hint="split the expression into `let` bindings")
            return None
        return None if failed else module  # type: ignore[no-any-return]
    return None


def _parses(text: str) -> bool:
    try:
        get_parser().parse(text)
    except (UnexpectedInput, RecursionError):
        return False
    return True


def _without_declaration(text: str, line: int, column: int) -> str | None:
    """``text`` with the declaration around ``line`` blanked out (line breaks kept, so later syntax
    errors keep their positions); None when nothing is left to try.  An error on the first word of
    a declaration means the one before it was left unfinished: that one is blanked."""
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    starts = [i for i, row in enumerate(lines) if _DECLARATION_START.match(row)]
    at = line - 1
    if column == 1 and at in starts:
        first = max((i for i in starts if i < at), default=0)
        last = at
    else:
        first = max((i for i in starts if i <= at), default=0)
        last = min((i for i in starts if i > at), default=len(lines))
        if first > 0 and _parses("\n".join(lines[first:last])):  # the declaration before swallowed this one
            last = first
            first = max((i for i in starts if i < last), default=0)
    if last >= len(lines) or not any(row.strip() for row in lines[last:]):
        return None
    blanked = lines[:first] + [" " * len(row) for row in lines[first:last]] + lines[last:]
    result = "\n".join(blanked)
    return None if result == text else result


def parse_date(text: str) -> datetime.datetime:
    """``2019-01-01`` or ``2019-01-01T06:00[:00]``; raises ValueError for impossible dates."""
    return datetime.datetime.fromisoformat(text)
