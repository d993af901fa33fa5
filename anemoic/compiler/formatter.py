"""`anemoic fmt`: the one layout of an .anm file, computed from its syntax tree.

The formatter keeps the author's line breaks (like gofmt) and rewrites everything else: indentation
(2 spaces per open block or bracket, +2 for a statement continued on the next line), the spaces
between tokens, at most one blank line in a row, and the `=` of consecutive settings of a block (and
of consecutive `let` / `sweep` lines) aligned in a column.  Comments keep their place: a comment on
its own line is indented like the code around it, an end-of-line comment keeps its column when the
code still fits before it.

Meaning can only change through the token stream, so ``format_source`` re-parses its own output and
refuses (``FormatError``) unless the tokens and the comments are exactly those of the input.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.parser import MAX_SOURCE_BYTES, parse
from anemoic.grammar import GRAMMAR_PATH

INDENT = 2
OUTLIER = 8  # a name this much longer than the rest of its run is not aligned (`validation_rollout`)
OPENERS, CLOSERS = ("(", "[", "{"), (")", "]", "}")
_comments: list[Token] = []
_layout_parser: Lark | None = None


class FormatError(Exception):
    """A file that cannot be formatted: its one-line message names the file, line and column."""


@dataclass
class _Tok:
    """One token of the source with what the layout needs to know about its place in the tree."""

    line: int
    column: int  # 1-based
    type: str
    value: str
    parent: str  # the grammar rule (or alias) of the tree node holding it; "comment" for comments
    space_before: bool = False  # whitespace separated it from the previous token in the source
    pad: int = 1  # spaces before this token when it is aligned (an `=` or `in`)
    out_column: int = 0  # 0-based column in the formatted line


def _parser() -> Lark:
    global _layout_parser
    if _layout_parser is None:
        _layout_parser = Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", keep_all_tokens=True,
                              propagate_positions=True, lexer_callbacks={"COMMENT": _comments.append})
    return _layout_parser


def _tree(text: str) -> tuple[Tree, list[Token]]:  # type: ignore[type-arg]
    _comments.clear()
    tree = _parser().parse(text)
    return tree, list(_comments)


def _leaves(tree: Tree) -> list[tuple[Token, Tree]]:  # type: ignore[type-arg]
    """Every token with its parent node, in source order, without recursion (deep sums stay safe)."""
    out: list[tuple[Token, Tree]] = []  # type: ignore[type-arg]
    stack: list[Tree] = [tree]  # type: ignore[type-arg]
    while stack:
        node = stack.pop()
        for child in node.children:
            if isinstance(child, Tree):
                stack.append(child)
            elif isinstance(child, Token):
                out.append((child, node))
    out.sort(key=lambda pair: (pair[0].line, pair[0].column))
    return out


def _nodes(tree: Tree, name: str) -> list[Tree]:  # type: ignore[type-arg]
    return [t for t in tree.iter_subtrees() if t.data == name]


def format_source(text: str, file: str = "<string>") -> str:
    """``text`` in its one layout; raises FormatError for a file that does not parse."""
    try:
        if len(text) > MAX_SOURCE_BYTES:
            raise ValueError("too large")
        tree, comments = _tree(text)
    except (UnexpectedInput, ValueError) as exc:
        sink = Sink()
        parse(text, file, sink)  # the message `anemoic check` gives
        if not sink.items:  # pragma: no cover - both parsers read one grammar
            raise FormatError(f"{file}: error: {exc}") from exc
        first = sink.items[0]
        raise FormatError(f"{first.span.location()}: error[{first.code}]: {first.message}") from exc
    result = _layout(text, tree, comments)
    _check_same_tokens(tree, comments, result, file)
    return result


def _check_same_tokens(tree: Tree, comments: list[Token], result: str, file: str) -> None:  # type: ignore[type-arg]
    def stream(t: Tree, cs: list[Token]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
        return [(tok.type, str(tok)) for tok, _ in _leaves(t)] + [("COMMENT", str(c).rstrip()) for c in cs]

    try:
        again, again_comments = _tree(result)
    except UnexpectedInput as exc:  # pragma: no cover - a formatter bug, never a user mistake
        raise FormatError(f"{file}: internal error: the formatted text does not parse ({exc})") from exc
    if stream(again, again_comments) != stream(tree, comments):  # pragma: no cover
        raise FormatError(f"{file}: internal error: formatting would change the file's tokens")


def _tokens(text: str, tree: Tree, comments: list[Token]) -> dict[int, list[_Tok]]:  # type: ignore[type-arg]
    """The source's tokens grouped by line, each line in column order."""
    toks = [_Tok(t.line, t.column, t.type, str(t), p.data) for t, p in _leaves(tree)]
    toks += [_Tok(c.line, c.column, "COMMENT", str(c).rstrip(), "comment") for c in comments]
    toks.sort(key=lambda t: (t.line, t.column))
    offsets = [0]
    for row in text.split("\n"):
        offsets.append(offsets[-1] + len(row) + 1)
    for tok in toks:
        start = offsets[tok.line - 1] + tok.column - 1
        tok.space_before = start > 0 and text[start - 1] in " \t\r\n\f"
    lines: dict[int, list[_Tok]] = defaultdict(list)
    for tok in toks:
        lines[tok.line].append(tok)
    return lines


def _layout(text: str, tree: Tree, comments: list[Token]) -> str:  # type: ignore[type-arg]
    lines = _tokens(text, tree, comments)
    starts = _statement_starts(tree)
    _align(lines, tree)
    out: list[str] = []
    stack: list[_Tok] = []  # the open brackets
    indents: dict[int, int] = {}  # id(opener) -> indent of its line
    blank = False
    for number in range(1, text.count("\n") + 2):
        toks = lines.get(number)
        if not toks:
            blank = bool(out)
            continue
        if blank:
            out.append("")
            blank = False
        first = toks[0]
        opener = stack[-1] if stack else None
        if opener is not None and first.value in CLOSERS:
            indent = indents[id(opener)]
        elif opener is not None and opener.parent != "block" and first.column == opener.column + 1:
            indent = opener.out_column + 1  # lined up under the first item after the bracket, as written
        else:
            indent = indents[id(opener)] + INDENT if opener is not None else 0
            in_statements = opener is None or opener.parent == "block"
            if in_statements and first.type != "COMMENT" and (first.line, first.column) not in starts:
                indent += INDENT  # a statement continued from the line above
        out.append(_render(toks, indent))
        for tok in toks:
            if tok.type in ("STRING", "COMMENT"):
                continue
            if tok.value in OPENERS:
                stack.append(tok)
                indents[id(tok)] = indent
            elif tok.value in CLOSERS and stack:
                stack.pop()
    return "\n".join(out) + "\n" if out else ""


def _statement_starts(tree: Tree) -> set[tuple[int, int]]:  # type: ignore[type-arg]
    """Where each top-level item and each block setting begins: the lines that are not continuations."""
    starts: set[tuple[int, int]] = set()
    for child in tree.children:
        if isinstance(child, Tree):
            starts.add((child.meta.line, child.meta.column))
        elif isinstance(child, Token):
            starts.add((child.line, child.column))
    for block in _nodes(tree, "block"):
        for child in block.children:
            node = child if isinstance(child, Token) else child.meta
            starts.add((node.line, node.column))
    return starts


def _align(lines: dict[int, list[_Tok]], tree: Tree) -> None:  # type: ignore[type-arg]
    """Pad the `=` of consecutive settings of a block (and the `=` / `in` of consecutive `let` and
    `sweep` lines, and of keyword arguments one to a line) so they line up; a blank line, a line of
    several settings or a statement continued on the next line ends a run."""
    keys: dict[tuple[int, int], tuple[object, str]] = {}  # where a name starts -> (run kind, name)
    for block in _nodes(tree, "block"):
        for setting in block.children:
            if isinstance(setting, Tree):
                key = setting.children[0]
                keys[(key.line, key.column)] = (id(block), str(key))
    for args in _nodes(tree, "args"):
        for arg in args.children:
            if isinstance(arg, Tree) and arg.data == "keyword_arg":
                key = arg.children[0]
                keys[(key.line, key.column)] = (id(args), str(key))
    for kind in ("let_decl", "sweep_decl"):
        for decl in tree.children:
            if isinstance(decl, Tree) and decl.data == kind:
                keys[(decl.children[0].line, decl.children[0].column)] = (kind, str(decl.children[1]))
    per_line: dict[tuple[int, object], int] = defaultdict(int)  # names of one run kind on one line
    for (line, _), (kind, _) in keys.items():
        per_line[(line, kind)] += 1
    run: list[tuple[_Tok, str]] = []  # (the token to pad, the name before it)
    run_kind: object = None

    def close() -> None:
        sizes = sorted(len(name) for _, name in run)
        width = sizes[-1] if sizes else 0
        if len(sizes) >= 3 and sizes[-1] - sizes[-2] > OUTLIER:
            width = sizes[-2]  # one much longer name does not push the whole run right
        for op, name in run:
            op.pad = max(1, width - len(name) + 1)
        run.clear()

    for number in range(1, max(lines, default=0) + 1):
        toks = lines.get(number)
        if toks and toks[0].type == "COMMENT":
            continue  # a comment line keeps the run going
        found = keys.get((toks[0].line, toks[0].column)) if toks else None
        if found is not None and per_line[(number, found[0])] > 1:
            found = None
        at = 1 if found is not None and isinstance(found[0], int) else 2  # the `=` (or `in`) after the name
        if toks is None or found is None or len(toks) <= at or found[0] != run_kind:
            close()
        if toks is not None and found is not None and len(toks) > at:
            run.append((toks[at], found[1]))
            run_kind = found[0]
            if _opens_more(toks):
                close()  # this statement goes on over the next lines
    close()


def _opens_more(toks: list[_Tok]) -> bool:
    depth = 0
    for tok in toks:
        if tok.type == "STRING" or tok.type == "COMMENT":
            continue
        depth += tok.value in OPENERS
        depth -= tok.value in CLOSERS
    return depth > 0


def _render(toks: list[_Tok], indent: int) -> str:
    code = [t for t in toks if t.type != "COMMENT"]
    text = " " * indent
    for i, tok in enumerate(code):
        if i:
            text += " " * tok.pad if tok.pad != 1 else _space(code[i - 1], tok)
        tok.out_column = len(text)
        text += tok.value
    comment = toks[-1] if toks[-1].type == "COMMENT" else None
    if comment is None:
        return text
    if not code:
        return text + comment.value
    return text + " " * max(1, comment.column - 1 - len(text)) + comment.value


def _space(prev: _Tok, tok: _Tok) -> str:
    """The space between two tokens of one line (always one where the source's lexer needs it)."""
    p, c = prev.value, tok.value
    if c in (")", "]"):
        return ""
    if c == "}":
        return "" if p == "{" or (tok.parent == "record" and not tok.space_before) else " "
    if p == "{":
        return "" if prev.parent == "record" and not tok.space_before else " "
    if c in (",", ";", ":"):
        return ""
    if p in (",", ";", ":"):
        return " "
    if p in ("(", "["):
        return ""
    if c in (".", "..") or p in (".", ".."):
        return ""
    if p == "-" and prev.parent == "neg":
        return ""
    if c == "(" and tok.parent in ("call", "task_decl"):
        return ""
    return " "
