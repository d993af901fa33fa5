"""`anemoic new` as a user runs it: the file it writes passes `anemoic check`; mistakes are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.cli.anemoic import main

ROOT = Path(__file__).resolve().parents[3]
PACIFIC = ROOT / "data" / "pacific-sst-wind-5deg.zarr"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_new_then_check_against_the_store(capsys) -> None:  # type: ignore[no-untyped-def]
    if not PACIFIC.exists():
        pytest.skip("data/pacific-sst-wind-5deg.zarr is absent (make data)")
    assert main(["new", "exps/sst", "--from", "ensemble", "--dataset", str(PACIFIC)]) == 0
    assert capsys.readouterr().out == ("wrote exps/sst.anm from the `ensemble` template; "
                                       "check it with `anemoic check exps/sst.anm`\n")
    assert main(["check", "--require-dataset", "exps/sst.anm"]) == 0
    assert capsys.readouterr().out.endswith("ok: 1 plan, 0 warnings\n")


def test_new_refuses_to_overwrite(capsys) -> None:  # type: ignore[no-untyped-def]
    Path("mine.anm").write_text("// mine\n")
    assert main(["new", "mine", "--from", "quickstart"]) == 2
    assert capsys.readouterr().err == "error: `mine.anm` already exists; pick another name or remove it\n"
    assert Path("mine.anm").read_text() == "// mine\n"


def test_unknown_template_and_missing_store_are_one_line(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["new", "x", "--from", "cerra"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no template `cerra`; templates: aifs,") and err.count("\n") == 1
    assert main(["new", "x", "--from", "aifs", "--dataset", "absent.zarr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "absent.zarr" in err and err.count("\n") == 1
    assert not Path("x.anm").exists()
