"""The VS Code folder: its TextMate grammar is the generated one, its patterns compile and colour an
experiment's words as expected, and its manifest points at files that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from anemoic.compiler import textmate
from tests.golden import assert_golden

FOLDER = Path(__file__).resolve().parents[2] / "editors" / "vscode"


def test_grammar_is_generated_from_the_vocabulary() -> None:
    assert_golden(textmate.grammar_text(), FOLDER / "syntaxes" / "anemoic.tmLanguage.json")


def _scope(rule: str, text: str) -> str | None:
    spec = textmate.grammar()["repository"][rule]
    match = re.search(spec["match"], text)
    return match.group(1) if match else None


def test_patterns_compile_and_match() -> None:
    repository = textmate.grammar()["repository"]
    for spec in repository.values():
        for pattern in [spec.get("match"), *(p["match"] for p in spec.get("patterns", []) if "match" in p)]:
            if pattern:
                re.compile(pattern)
    assert _scope("declaration", "task forecast(net) {") == "task"
    assert _scope("setting", "  timestep = 6h") == "timestep"
    assert _scope("component", "lr = 1e-3 with cosine(warmup = 10)") == "cosine"
    assert _scope("keyword", "rollout = 1 -> 12 by 1 every epoch") == "by"
    assert _scope("component", "lr = cosine_thing(1)") is None


def test_manifest_names_existing_files() -> None:
    manifest = json.loads((FOLDER / "package.json").read_text())
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".anm"] and grammar["scopeName"] == textmate.grammar()["scopeName"]
    assert (FOLDER / language["configuration"]).is_file() and (FOLDER / grammar["path"]).is_file()
    json.loads((FOLDER / language["configuration"]).read_text())
