"""The TextMate grammar of .anm files (``editors/vscode/syntaxes/anemoic.tmLanguage.json``), generated
from the language's own word lists so highlighting never lags the grammar or the registry.
Regenerate with ``ANEMOIC_UPDATE_GOLDEN=1 pytest tests/editors``."""

from __future__ import annotations

import json
from typing import Any

from anemoic.compiler import language
from anemoic.compiler.builtins import REGISTRY
from anemoic.compiler.editor import DECLARATIONS

NAME = "[A-Za-z_][A-Za-z0-9_]*"


def grammar() -> dict[str, Any]:
    words = sorted(set(language.keywords()) - set(DECLARATIONS) - {"true", "false"})
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "anemoic",
        "scopeName": "source.anemoic",
        "fileTypes": ["anm"],
        "patterns": [{"include": f"#{rule}"} for rule in (
            "comment", "string", "declaration", "setting", "number", "constant", "keyword", "component", "operator")],
        "repository": {
            "comment": {"name": "comment.line.anemoic", "match": "(//|#).*$"},
            "string": {"name": "string.quoted.double.anemoic", "begin": '"', "end": '"',
                       "patterns": [{"name": "constant.character.escape.anemoic", "match": "\\\\."}]},
            "declaration": {"match": rf"^\s*({'|'.join(DECLARATIONS)})\b(?:\s+({NAME}))?",
                            "captures": {"1": {"name": "keyword.declaration.anemoic"},
                                         "2": {"name": "entity.name.anemoic"}}},
            "setting": {"match": rf"\b({NAME})\s*(?==)", "captures": {"1": {"name": "variable.other.property.anemoic"}}},
            "number": {"patterns": [
                {"name": "constant.numeric.date.anemoic", "match": r"\b\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?\b"},
                {"name": "constant.numeric.float.anemoic", "match": r"\b\d+(\.\d+([eE][+-]?\d+)?|[eE][+-]?\d+)\b"},
                {"name": "constant.numeric.unit.anemoic", "match": rf"\b\d+{NAME}\b"},
                {"name": "constant.numeric.integer.anemoic", "match": r"\b\d+\b"}]},
            "constant": {"name": "constant.language.anemoic", "match": r"\b(true|false)\b"},
            "keyword": {"name": "keyword.operator.word.anemoic", "match": rf"\b({'|'.join(words)})\b"},
            "component": {"name": "support.function.anemoic", "match": rf"\b({'|'.join(sorted(REGISTRY))})(?=\s*\()"},
            "operator": {"name": "keyword.operator.anemoic", "match": r"->|\.\.|[-+*/=]"},
        },
    }


def grammar_text() -> str:
    return json.dumps(grammar(), indent=2) + "\n"
