"""`anemoic check` as a user runs it: exit codes, text and JSON output, and no torch import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from tests.cli.imports import heavy, imports_of

ROOT = Path(__file__).resolve().parents[3]
BASE = ROOT / "tests" / "compiler" / "base.anm"


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_clean_file_exits_0(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "exp.anm"
    path.write_text(BASE.read_text())
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "W0101" in out and out.endswith("ok: 1 plan, 1 warning\n")


def test_errors_exit_1_and_json_lists_them(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "exp.anm"
    path.write_text(BASE.read_text().replace("timestep = 6h", "timestep = 6").replace("epochs = 2", "epoch = 2"))
    assert main(["check", "--format", "json", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["errors"] == 2
    codes = sorted(d["code"] for d in doc["diagnostics"])
    assert codes == ["E0101", "E0208", "W0101"]
    first = doc["diagnostics"][0]
    assert {"file", "line", "column", "end_line", "end_column", "message", "hint", "severity"} <= set(first)


def test_missing_file_exits_2(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["check", str(tmp_path / "absent.anm")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_check_never_imports_torch() -> None:
    """Cold `anemoic check` must start fast: torch (and the runtime's heavy parts) stay unloaded."""
    proc, imported = imports_of(["check", str(ROOT / "examples" / "aifs_o96.anm")], ANEMOIC_NO_CHECK_CACHE="1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anemoic.compiler.api" in imported and heavy(imported) == set()
