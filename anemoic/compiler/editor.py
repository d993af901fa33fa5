"""What an editor asks of the compiler, free of any protocol: diagnostics for a text, hover for a
word, completions at a place, document symbols.  ``anemoic lsp`` (``anemoic.cli.lsp_server``) turns
these into Language Server Protocol messages; positions here are 0-based, as LSP counts them.

Everything is computed from the same phases as ``anemoic check`` (``compile_source``), so an editor
shows exactly the codes and messages of the command line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from anemoic.compiler import ast, language
from anemoic.compiler.api import CompileResult, compile_source
from anemoic.compiler.builtins import REGISTRY, REQUIRED
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.docgen import signature
from anemoic.compiler.modules import STDLIB_DIR
from anemoic.compiler.parser import parse
from anemoic.plan.convert import plan_to_dict
from anemoic.plan.paths import flatten, source_of

DECLARATIONS = ("import", "let", "dataset", "variables", "graph", "model", "task", "loss", "train", "parallel",
                "site", "outputs", "tracking", "sweep")
_WORD = re.compile(r"[A-Za-z0-9_]+")
_BLOCK_OPENER = re.compile(r"^\s*(dataset|variables|task|train|parallel|site|outputs|tracking)\b")


@dataclass(frozen=True)
class Issue:
    line: int
    column: int
    end_line: int
    end_column: int
    severity: str  # "error" | "warning"
    code: str
    message: str


@dataclass(frozen=True)
class Completion:
    label: str
    kind: str  # "keyword" | "setting" | "component" | "variable" | "value"
    detail: str = ""


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # the declaration keyword
    line: int
    column: int
    end_line: int
    end_column: int


def check_text(text: str, path: str) -> tuple[list[Issue], CompileResult]:
    """The diagnostics of ``check`` for the text of the file ``path``; those located in another file
    (an imported module) are shown at the top of this one, with their location in the message."""
    result = compile_source(text, path)
    issues = []
    here = os.path.abspath(path)
    for d in result.diagnostics:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        span = d.span
        if os.path.abspath(span.file) == here or span.file == path:
            issues.append(Issue(span.line - 1, span.column - 1, span.end_line - 1, span.end_column - 1,
                                d.severity, d.code, message))
        else:
            issues.append(Issue(0, 0, 0, 1, d.severity, d.code, f"{span.location()}: {message}"))
    return issues, result


def word_at(text: str, line: int, column: int) -> tuple[str, int, int] | None:
    """The word (letters, digits, `_`) under a 0-based position, with its start and end columns."""
    rows = text.split("\n")
    if not 0 <= line < len(rows):
        return None
    for match in _WORD.finditer(rows[line]):
        if match.start() <= column <= match.end():
            return match.group(), match.start(), match.end()
    return None


def enclosing_block(text: str, line: int, column: int) -> str | None:
    """The block keyword (`train`, `task`, ...) whose braces hold the position, read from the text so
    that a half-typed document still answers."""
    before = "\n".join(text.split("\n")[:line] + [text.split("\n")[line][:column] if line < text.count("\n") + 1
                                                  else ""])
    depth, rows = 0, before.split("\n")
    for number in range(len(rows) - 1, -1, -1):
        row = re.sub(r'"([^"\\]|\\.)*"|(//|#).*$', "", rows[number])
        for ch in reversed(row):
            if ch in ")]}":
                depth += 1
            elif ch in "([{":
                if depth == 0:
                    opener = _BLOCK_OPENER.match(row)
                    return opener.group(1) if ch == "{" and opener else None
                depth -= 1
    return None


def _plan_values(result: CompileResult | None, field: str) -> list[str]:
    if result is None or not result.plans:
        return []
    plan = result.plans[0]
    values = flatten(plan_to_dict(plan))
    lines = [f"`{path}` = `{value!r}`" for path, value in values.items()
             if path == field or path.startswith(field + ".") or path.startswith(field + "[")]
    where = source_of(plan.source_map, field)
    return lines[:8] + ([f"set at `{where}`"] if where else [])


def hover(text: str, line: int, column: int, result: CompileResult | None = None) -> str | None:
    """Markdown for the word under the position: a setting (its plan field, resolved value and where it
    was set), a component (signature and summary), a `let` (its definition) or a keyword."""
    found = word_at(text, line, column)
    if found is None:
        return None
    word, start, end = found
    row = text.split("\n")[line]
    block = enclosing_block(text, line, start)
    prefix = row[:start].rstrip()
    if block is not None and re.match(r"\s*=", row[end:]) and (prefix == "" or prefix.endswith(("{", ";"))):
        field = language.SETTING_FIELDS.get(block, {}).get(word)
        head = f"setting `{word}` of `{block}`" + (f": plan field `{field}`" if field else "")
        return "\n\n".join([head, *_plan_values(result, field)]) if field else head
    if re.match(r"\s*=", row[end:]):
        argument = _argument(text, line, start, word)
        if argument is not None:
            return argument
    if word in REGISTRY:
        b = REGISTRY[word]
        return f"```\n{signature(b)}\n```\n{b.summary} ({b.category})"
    definition = _definition(text, word)
    if definition is not None:
        return f"```\n{definition}\n```"
    if word in language.keywords():
        return f"keyword `{word}`"
    return None


def _callee(text: str, line: int, column: int) -> str | None:
    """The component whose call's parentheses hold the position (through a preset's `let`), else None."""
    rows = text.split("\n")
    before = "\n".join(rows[:line] + [rows[line][:column] if line < len(rows) else ""])
    before = re.sub(r'"([^"\\\n]|\\.)*"|(//|#)[^\n]*', lambda m: " " * len(m.group()), before)
    depth = 0
    for index in range(len(before) - 1, -1, -1):
        ch = before[index]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth > 0:
                depth -= 1
                continue
            if ch != "(":
                return None
            callee = re.search(r"(\w+)\s*$", before[:index])
            name = callee.group(1) if callee else ""
            for _ in range(4):  # a preset: `let graphtransformer = encoder_processor_decoder(...)`
                if name in REGISTRY:
                    return name
                following = re.search(r"=\s*(\w+)\s*\(", _definition(text, name) or "")
                name = following.group(1) if following else ""
            return None
    return None


def _argument(text: str, line: int, column: int, word: str) -> str | None:
    """``name = ...`` inside a call: the parameter of the component called."""
    name = _callee(text, line, column)
    param = REGISTRY[name].param(word) if name is not None else None
    if name is None or param is None:
        return None
    default = "required" if param.default is REQUIRED else repr(param.default)
    return f"parameter `{word}` of `{name}`: {param.type}, default {default}"


def _definition(text: str, name: str) -> str | None:
    """The first line of ``let name = ...`` in this text, else in the standard library."""
    pattern = re.compile(rf"^let\s+{re.escape(name)}\s*=.*$", re.M)
    match = pattern.search(text)
    if match:
        return match.group().strip()
    for path in sorted(STDLIB_DIR.rglob("*.anm")):
        match = pattern.search(path.read_text(encoding="utf-8"))
        if match:
            module = "std." + ".".join(path.relative_to(STDLIB_DIR).with_suffix("").parts)
            return f"{match.group().strip()}    // {module}"
    return None


@lru_cache(maxsize=8)
def _store_variables(path: str, mtime: float) -> tuple[str, ...]:
    from anemoic.datasets.store import read_metadata

    return read_metadata(path).variables


def dataset_variables(text: str, path: str) -> tuple[str, ...]:
    """The variables of the store the text's `zarr("...")` names (empty when it cannot be read)."""
    match = re.search(r'zarr\(\s*"([^"]+)"', text)
    if match is None:
        return ()
    store = (Path(path).resolve().parent / match.group(1)).resolve()
    try:
        return _store_variables(str(store), store.stat().st_mtime)
    except Exception:  # noqa: BLE001 - a missing or broken store only means no completions
        return ()


def completions(text: str, line: int, column: int, path: str) -> list[Completion]:
    """What may be written at the position: a block's settings at the start of one of its lines,
    declaration keywords at the start of a top-level line, else values (components, `let` names,
    the dataset's variables, literals), led by the parameters of the component being called."""
    row = text.split("\n")[line] if line <= text.count("\n") else ""
    before = row[:column]
    found = word_at(text, line, column)
    start = found[1] if found else column
    prefix = before[:start].rstrip()
    block = enclosing_block(text, line, column)
    if block is not None and (prefix == "" or prefix.endswith(("{", ";"))):
        fields = language.SETTING_FIELDS.get(block, {})
        return [Completion(k, "setting", fields.get(k, f"`{block}` setting")) for k in language.BLOCK_SETTINGS[block]]
    if block is None and (prefix == "" or prefix.endswith(";")) and not re.search(r"[=(\[,]", before):
        return [Completion(k, "keyword") for k in DECLARATIONS]
    callee = _callee(text, line, start)
    items = []
    if callee is not None and (prefix == "" or prefix.endswith(("(", ",", ";"))):
        items += [Completion(p.name, "setting", f"{p.type} (`{callee}`)") for p in REGISTRY[callee].params]
    items += [Completion(b.name, "component", signature(b)) for b in language.components()]
    items += [Completion(name, "value", "let") for name in sorted(set(re.findall(r"^let\s+(\w+)", text, re.M)))]
    for module, names in re.findall(r'^import\s+([\w.]+|"[^"]*")\s*(?:\(([^)]*)\))?', text, re.M):
        found = [n.strip() for n in names.split(",") if n.strip()] if names else [Path(module.strip('"')).stem
                                                                                  .split(".")[-1]]
        items += [Completion(name, "value", f"import {module}") for name in found]
    items += [Completion(v, "variable", "dataset variable") for v in dataset_variables(text, path)]
    items += [Completion(k, "keyword") for k in ("true", "false", "steps", "with", "except", "by", "every")]
    return items


def symbols(text: str, path: str) -> list[Symbol]:
    """The top-level declarations (for an editor's outline); none while the text does not parse."""
    module = parse(text, path, Sink())
    if module is None:
        return []
    out = []
    for decl in module.decls:
        span = decl.span
        if isinstance(decl, ast.Binding):
            name, kind = decl.name.id, decl.kind
        elif isinstance(decl, ast.Section):
            kind = decl.kind
            name = f"{kind} {decl.name.id}" if decl.name is not None else kind
        elif isinstance(decl, ast.Sweep):
            name, kind = f"sweep {decl.name.id}", "sweep"
        elif isinstance(decl, ast.Import):
            name, kind = f"import {decl.module}", "import"
        else:  # pragma: no cover - every declaration kind is listed above
            continue
        out.append(Symbol(name, kind, span.line - 1, span.column - 1, span.end_line - 1, span.end_column - 1))
    return out


@dataclass(frozen=True)
class Location:
    path: str
    line: int
    column: int
    end_column: int


_BINDING = r"^\s*(?:let|dataset|graph|model|loss)\s+({name})\s*="


def _module_path(module: str, directory: Path) -> Path | None:
    if module.startswith('"'):
        path = (directory / module.strip('"')).resolve()
    elif module.split(".")[0] == "std":
        path = STDLIB_DIR.joinpath(*module.split(".")[1:]).with_suffix(".anm")
    else:
        path = (directory / ("/".join(module.split(".")) + ".anm")).resolve()
    return path if path.is_file() else None


def _binding_in(text: str, name: str, path: str) -> Location | None:
    match = re.search(_BINDING.format(name=re.escape(name)), text, re.M)
    if match is None:
        return None
    line = text.count("\n", 0, match.start(1))
    column = match.start(1) - (text.rfind("\n", 0, match.start(1)) + 1)
    return Location(path, line, column, column + len(name))


def definition(text: str, line: int, column: int, path: str) -> Location | None:
    """Where the name under the position is bound: in this file, in a module it imports (a name in an
    import list, or ``module.name``), or the imported module itself."""
    found = word_at(text, line, column)
    if found is None:
        return None
    word, start, _ = found
    row = text.split("\n")[line]
    directory = Path(path).resolve().parent
    imports = re.findall(r'^import\s+([\w.]+|"[^"]*")\s*(?:\(([^)]*)\))?', text, re.M)
    ref = re.match(r'\s*import\s+([\w.]+|"[^"]*")', row)
    if ref is not None and ref.start(1) <= start < ref.end(1):  # the module of an import line
        module_path = _module_path(ref.group(1), directory)
        return Location(str(module_path), 0, 0, 0) if module_path is not None else None
    qualifier = re.search(r"(\w+)\.$", row[:start])
    if qualifier is None:
        here = _binding_in(text, word, path)
        if here is not None:
            return here
    for module, names in imports:
        alias = Path(module.strip('"')).stem if module.startswith('"') else module.split(".")[-1]
        listed = [n.strip() for n in names.split(",")] if names else []
        on_import_line = row.lstrip().startswith("import") and module.strip('"').split(".")[-1] in row
        target = None
        if qualifier is not None and qualifier.group(1) == alias:
            target = word
        elif qualifier is None and word in listed:
            target = word
        elif qualifier is None and word == alias and (not names or on_import_line):
            target = ""
        if target is None:
            continue
        module_path = _module_path(module, directory)
        if module_path is None:
            return None
        if not target:
            return Location(str(module_path), 0, 0, 0)
        return _binding_in(module_path.read_text(encoding="utf-8"), target, str(module_path))
    return None
