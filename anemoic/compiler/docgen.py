"""`anemoic doc`: the standard library's reference, generated, never written by hand.

Three sources, each the one place its facts are declared: the components and their parameters
(``builtins.REGISTRY``), the settings of each block (the checkers' tables, via ``language``), and the
presets of the stdlib modules (their ``let`` bindings and the comments above them).  One document
model renders as Markdown or HTML, so the two never disagree.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from anemoic.compiler import ast, language
from anemoic.compiler.builtins import REQUIRED, Builtin, Param
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.modules import STDLIB_DIR, stdlib_modules
from anemoic.compiler.parser import parse

CATEGORIES = {
    "store": "Dataset stores", "variables": "Variable groups", "imputer": "Imputers", "grid": "Model grids",
    "graph": "Graphs",
    "nodes": "Hidden meshes", "edges": "Edges", "model": "Models", "method": "Methods", "noise": "Ensemble noise",
    "loss": "Losses", "scaler": "Loss scalers", "schedule": "Learning-rate schedules", "optimiser": "Optimisers",
}
"""Category -> section title, in the order a reader meets them; a new category is listed after these."""


@dataclass(frozen=True)
class Node:
    kind: str  # "h1" "h2" "h3" "p" "table" "code"
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()  # a table's header row first


def _type(param: Param) -> str:
    if param.type.startswith("enum:"):
        return "one of " + ", ".join(f"`{c}`" for c in param.type[5:].split(","))
    return param.type.replace("_", " ")


def _value(value: object) -> str:
    if value is REQUIRED:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(str(x) for x in value) + "]`"
    if isinstance(value, float):
        return "`" + re.sub(r"e([+-])0+(\d)", r"e\1\2", repr(value)) + "`"
    return f'`"{value}"`' if isinstance(value, str) else f"`{value}`"


def signature(b: Builtin) -> str:
    """``name(required, optional = default, *variables)`` as a user writes the call."""
    parts = [p.name if p.default is REQUIRED else f"{p.name} = {_value(p.default).strip('`')}" for p in b.params]
    if b.var_positional:
        parts.append(f"{b.var_positional}...")
    if b.var_keyword:
        parts.append("name = value...")
    return f"{b.name}({', '.join(parts)})"


def _components() -> list[Node]:
    nodes = [Node("h2", "Components"), Node("p", "Everything a file can call. Nothing else is callable, so an "
                                                   "experiment never runs code of its own.")]
    order = list(CATEGORIES) + sorted({b.category for b in language.components()} - set(CATEGORIES))
    for category in order:
        members = language.components(category)
        if not members:
            continue
        nodes.append(Node("h3", f"{CATEGORIES.get(category, category.capitalize())} (`{category}`)"))
        for b in members:
            summary = b.summary or "no summary"
            nodes.append(Node("p", f"`{signature(b)}`: {summary}" + ("" if summary.endswith(".") else ".")))
            if b.params:
                rows = [("parameter", "type", "default")]
                rows += [(f"`{p.name}`", _type(p), _value(p.default)) for p in b.params]
                nodes.append(Node("table", rows=tuple(rows)))
    return nodes


def _blocks() -> list[Node]:
    nodes = [Node("h2", "Blocks and their settings")]
    for block, keys in language.BLOCK_SETTINGS.items():
        fields = language.SETTING_FIELDS.get(block, {})
        nodes.append(Node("h3", f"`{block}`"))
        rows = [("setting", "plan field")] + [(f"`{k}`", f"`{fields[k]}`" if k in fields else "see docs/language.md")
                                              for k in keys]
        nodes.append(Node("table", rows=tuple(rows)))
    return nodes


def _comment_above(lines: list[str], index: int) -> list[str]:
    """The comment lines directly above line ``index`` (0-based), without their markers."""
    out: list[str] = []
    while index > 0 and re.match(r"\s*(//|#)", lines[index - 1]):
        index -= 1
        out.insert(0, re.sub(r"^\s*(//|#) ?", "", lines[index]))
    return out


def _presets() -> list[Node]:
    nodes = [Node("h2", "Presets (stdlib modules)"),
             Node("p", "`import std.models (graphtransformer)` brings a preset into a file; a call overrides any "
                       "of its arguments: `graphtransformer(g, channels = 512)`.")]
    for module in stdlib_modules():
        path = STDLIB_DIR.joinpath(*module.split(".")[1:]).with_suffix(".anm")
        text = path.read_text(encoding="utf-8")
        tree = parse(text, str(path), Sink())
        if tree is None:
            continue
        lines = text.split("\n")
        nodes.append(Node("h3", f"`{module}`"))
        intro = []
        for row in lines:
            if not re.match(r"\s*(//|#)", row):
                break
            intro.append(re.sub(r"^\s*(//|#) ?", "", row))
        if intro:
            nodes.append(Node("p", " ".join(intro)))
        lets = [d for d in tree.decls if isinstance(d, ast.Binding) and d.kind == "let"]
        starts = [d.span.line for d in tree.decls] + [len(lines) + 1]
        for decl in lets:
            doc = _comment_above(lines, decl.span.line - 1)
            end = min(s for s in starts if s > decl.span.line)
            body = [row for row in lines[decl.span.line - 1:end - 1]]
            while body and (not body[-1].strip() or re.match(r"\s*(//|#)", body[-1])):
                body.pop()
            nodes.append(Node("p", f"`{decl.name.id}`" + (": " + " ".join(doc) if doc and doc != intro else "")))
            nodes.append(Node("code", "\n".join(body)))
    return nodes


def document() -> list[Node]:
    return [Node("h1", "The anemoic standard library"),
            Node("p", "Generated by `anemoic doc` from the compiler's component registry, the checkers' "
                      "setting tables and the stdlib modules; do not edit it by hand."),
            *_blocks(), *_components(), *_presets()]


def markdown(nodes: list[Node]) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind.startswith("h"):
            out.append("#" * int(node.kind[1]) + " " + node.text)
        elif node.kind == "p":
            out.append(node.text)
        elif node.kind == "code":
            out.append("```\n" + node.text + "\n```")
        else:
            head, *rows = node.rows
            out.append("\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
                                  *("| " + " | ".join(r) + " |" for r in rows)]))
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text, quote=False))


def to_html(nodes: list[Node]) -> str:
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           "<title>The anemoic standard library</title>",
           "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}pre{background:#f6f6f6;padding:6px}</style>",
           "</head><body>"]
    for node in nodes:
        if node.kind.startswith("h"):
            out.append(f"<{node.kind}>{_inline(node.text)}</{node.kind}>")
        elif node.kind == "p":
            out.append(f"<p>{_inline(node.text)}</p>")
        elif node.kind == "code":
            out.append(f"<pre><code>{html.escape(node.text, quote=False)}</code></pre>")
        else:
            head, *rows = node.rows
            out.append("<table><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows)
                       + "</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
