"""The `anemoic check` result cache: reused only while nothing it depends on has changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anemoic.cli import check_cache
from anemoic.cli.anemoic import main
from anemoic.datasets.synth import write_synthetic_store

BASE = (Path(__file__).parents[1].joinpath("compiler", "base.anm")).read_text()


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ANEMOIC_NO_CHECK_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check", *args])
    return code, capsys.readouterr().out


def test_unchanged_files_reuse_the_entry(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "exp.anm").write_text(BASE)
    first = check(capsys, "exp.anm")
    assert len(list((folder / "cache" / "anemoic" / "check").glob("*.json"))) == 1
    assert check(capsys, "exp.anm") == first == (0, first[1])
    assert check_cache.lookup("exp.anm", "text:False") == (first[1], False)


def test_an_edited_file_is_checked_again(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "exp.anm").write_text(BASE)
    assert check(capsys, "exp.anm")[0] == 0
    (folder / "exp.anm").write_text(BASE.replace("epochs = 2", "epochs = 0"))
    code, out = check(capsys, "exp.anm")
    assert code == 1 and "E0105" in out


def test_an_edited_or_new_module_is_seen(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "exp.anm").write_text('import "./site.anm"\n' + BASE)
    code, out = check(capsys, "exp.anm")
    assert code == 1 and "E0301" in out
    (folder / "site.anm").write_text('site s { time = 2h }\n')
    assert check(capsys, "exp.anm")[0] == 0
    (folder / "site.anm").write_text('site s { time = 20m }\n')
    code, out = check(capsys, "exp.anm")
    assert code == 1 and "E1101" in out


def test_a_changed_store_is_seen(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "exp.anm").write_text(BASE.replace("surface(2t,", "surface(2t, sst,"))
    code, out = check(capsys, "exp.anm")
    assert code == 0 and "W0101" in out
    write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")
    code, out = check(capsys, "exp.anm")
    assert code == 1 and "E0602" in out and "W0101" not in out


def test_flags_and_broken_entries(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "exp.anm").write_text(BASE)
    assert check(capsys, "exp.anm")[0] == 0
    code, out = check(capsys, "--format", "json", "exp.anm")
    assert json.loads(out)["warnings"] == 1
    assert check(capsys, "--require-dataset", "exp.anm")[0] == 1
    for entry in (folder / "cache" / "anemoic" / "check").glob("*.json"):
        entry.write_text("{broken")
    assert check(capsys, "exp.anm")[0] == 0


def test_a_changed_boundary_store_is_seen(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A limited-area model's boundary store is one of the stores a check depends on."""
    from tests.compiler.typecheck.test_limited_area import AREA, LAM

    write_synthetic_store(folder / "region.zarr", grid="o32", area=AREA, frequency="12h")
    write_synthetic_store(folder / "globe.zarr", grid="o16")
    (folder / "exp.anm").write_text(LAM.format(region="region.zarr", boundary="globe.zarr", margin=300,
                                               timestep="12h", region_settings="", boundary_settings="",
                                               task_settings=""))
    assert check(capsys, "exp.anm")[0] == 0
    write_synthetic_store(folder / "globe.zarr", grid="o16", end="2020-01-25T18:00")
    code, out = check(capsys, "exp.anm")
    assert code == 1 and "E0512" in out
