"""`anemoic schema` and `anemoic doc` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from anemoic.cli.anemoic import main
from anemoic.plan.schema import SCHEMA_PATH, schema_text

ROOT = Path(__file__).resolve().parents[3]


def test_schema_prints_the_plan_schema(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert out == SCHEMA_PATH.read_text() == schema_text()
    assert json.loads(out)["title"] == "anemoic plan"


def test_doc_prints_markdown_and_writes_html(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["doc"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "stdlib.md").read_text()
    assert main(["doc", "--format", "html", "-o", str(tmp_path / "site")]) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'site' / 'stdlib.html'}\n"
    assert (tmp_path / "site" / "stdlib.html").read_text().startswith("<!DOCTYPE html>")


def test_doc_into_an_unwritable_place_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("")
    assert main(["doc", "-o", str(tmp_path / "file")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: cannot write `") and err.count("\n") == 1
