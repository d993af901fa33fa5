"""`anemoic data synth|show|import|prepare`: what the user reads (golden) and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def _run(capsys: pytest.CaptureFixture[str], argv: list[str], tmp_path: Path) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out.replace(str(tmp_path), "<tmp>"), err.replace(str(tmp_path), "<tmp>")


def test_synth_then_show(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = str(tmp_path / "toy.zarr")
    code, out, _ = _run(capsys, ["data", "synth", "--out", store, "--grid", "8x16", "--variables", "2t,msl,tp",
                                 "--end", "2020-01-05T18:00", "--missing-dates", "2020-01-02T06:00"], tmp_path)
    assert code == 0 and out == "wrote <tmp>/toy.zarr: 3 variables, 20 dates, 128 points\n"
    code, out, _ = _run(capsys, ["data", "show", store], tmp_path)
    assert code == 0
    assert_golden(out, GOLDEN / "data_show.txt")


def test_user_mistakes_get_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cases = [
        ["data", "synth", "--out", str(tmp_path / "a.zarr"), "--grid", "n320"],
        ["data", "synth", "--out", str(tmp_path / "a.zarr"), "--nan-variables", "sst", "--nan-fraction", "0.1"],
        ["data", "import", str(tmp_path / "missing.nc"), "--out", str(tmp_path / "b.zarr")],
        ["data", "import", str(tmp_path / "missing.nc"), "--out", str(tmp_path / "b.zarr"), "--area", "1/2/3"],
        ["data", "import", str(tmp_path / "missing.nc"), "--out", str(tmp_path / "b.zarr"), "--rename", "u"],
        ["data", "show", str(tmp_path / "nowhere.zarr")],
    ]
    errors = []
    for argv in cases:
        code, out, err = _run(capsys, argv, tmp_path)
        assert code == 2 and out == ""
        errors.append(err)
    assert_golden("".join(errors), GOLDEN / "data_errors.txt")


def test_import_writes_a_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.datasets.test_importer import write_sources

    sst, wind = write_sources(tmp_path)
    code, out, err = _run(capsys, ["data", "import", str(sst), str(wind), "--out", str(tmp_path / "p.zarr"),
                                   "--monthly", "--rename", "u=10u", "--area", "5/105/-5/125",
                                   "--statistics-end", "2000-12-01", "--licence", "CC0-1.0"], tmp_path)
    assert (code, err) == (0, "")
    assert out == "wrote <tmp>/p.zarr: 2 variables, 24 dates, 15 points\n"
