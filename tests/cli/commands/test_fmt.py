"""`anemoic fmt` as a user runs it: in place, --check and --diff (golden texts), stdin, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from tests.cli.imports import heavy, imports_of
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).parent / "golden"
MESSY = """\
// a training block written in a hurry
train{epochs=2;batch   =  4}
outputs {
run_dir="runs/x"   // where it goes
    checkpoint_every = 30m
}
"""
TIDY = """\
// a training block written in a hurry
train { epochs = 2; batch = 4 }
outputs {
  run_dir          = "runs/x" // where it goes
  checkpoint_every = 30m
}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "exps").mkdir()
    (tmp_path / "exps" / "messy.anm").write_text(MESSY)
    (tmp_path / "exps" / "tidy.anm").write_text(TIDY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _fmt(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["fmt", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_lists_files_that_would_change_and_writes_nothing(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _fmt(capsys, "--check", "exps")
    assert (code, err) == (1, "")
    assert_golden(out, GOLDEN / "fmt_check.txt")
    assert (project / "exps" / "messy.anm").read_text() == MESSY
    assert _fmt(capsys, "--check", "exps/tidy.anm") == (0, "", "")


def test_diff_prints_a_unified_diff(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _fmt(capsys, "--diff", "exps")
    assert (code, err) == (0, "")
    assert_golden(out, GOLDEN / "fmt_diff.txt")
    assert (project / "exps" / "messy.anm").read_text() == MESSY
    code, out, err = _fmt(capsys, "--diff", "--check", "exps")
    assert code == 1 and out.startswith("--- exps/messy.anm (original)") and err == "would reformat exps/messy.anm\n"


def test_in_place_rewrites_only_what_changes(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tidy = project / "exps" / "tidy.anm"
    stamp = tidy.stat().st_mtime_ns
    assert _fmt(capsys, "exps") == (0, "formatted exps/messy.anm\n", "")
    assert (project / "exps" / "messy.anm").read_text() == TIDY
    assert tidy.stat().st_mtime_ns == stamp
    assert _fmt(capsys, "exps") == (0, "", "")


def test_a_syntax_error_is_one_line_and_exit_1(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (project / "bad.anm").write_text("train {\n  epochs =\n}\n")
    code, out, err = _fmt(capsys, "bad.anm", "exps/tidy.anm")
    assert (code, out) == (1, "")
    assert_golden(err, GOLDEN / "fmt_syntax_error.txt")
    assert (project / "bad.anm").read_text() == "train {\n  epochs =\n}\n"


def test_missing_file_exits_2(project: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert _fmt(capsys, "absent.anm") == (2, "", "error: cannot read `absent.anm`: no such file or folder\n")


def test_stdin_to_stdout_in_a_real_process_without_torch() -> None:
    proc = subprocess.run([sys.executable, "-m", "anemoic.cli.anemoic", "fmt", "-"], input=MESSY,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, TIDY, "")
    proc, imported = imports_of(["fmt", "--check", str(ROOT / "examples" / "quickstart.anm")])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not heavy(imported)
