"""`anemoic diff`: resolved differences with source locations and impact classes (golden texts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from tests.compiler.targets.project import experiment_text, normalise, shared_store
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def project(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = shared_store(tmp_path_factory)
    (tmp_path / "a.anm").write_text(experiment_text(store))
    (tmp_path / "b.anm").write_text(experiment_text(store, lr="3e-4", channels="64", rollout=6,
                                                    diagnostic="tp, 10u"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_of_two_experiments_golden(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _diff(capsys, "a.anm", "b.anm")
    assert (code, err) == (0, "")
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / "diff_experiments.txt")


def test_diff_of_built_plans_equals_diff_of_sources(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "a.anm"]) == 0 and main(["build", "b.anm"]) == 0
    capsys.readouterr()
    from_sources = _diff(capsys, "a.anm", "b.anm")[1]
    from_plans = _diff(capsys, "build/a/plan.json", "build/b/plan.json")[1]
    # built plans carry estimates, which diff ignores; labels differ
    assert from_plans.replace("build/a/plan.json", "a.anm").replace("build/b/plan.json", "b.anm") == from_sources


def test_identical_experiments(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _diff(capsys, "a.anm", "a.anm")
    assert (code, out) == (0, "no differences: a.anm and a.anm resolve to the same plan\n")


def test_comment_only_change_has_no_differences(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "c").mkdir()  # same file name: the experiment's name (and run dir) come from it
    (project / "c/a.anm").write_text("// only a comment\n\n" + (project / "a.anm").read_text())
    assert _diff(capsys, "a.anm", "c/a.anm")[1] == "no differences: a.anm and c/a.anm resolve to the same plan\n"


def test_errors_in_one_side_stop_the_diff(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.anm").write_text("model = ")
    code, out, err = _diff(capsys, "a.anm", "bad.anm")
    assert code == 1 and out == "" and "error[" in err
    assert _diff(capsys, "a.anm", "missing.anm")[0] == 2
