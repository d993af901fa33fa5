"""`anemoic explain`: the blame view of plan fields (golden texts)."""

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
    (tmp_path / "exp.anm").write_text(experiment_text(store))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _explain(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("field", "golden"),
    [
        ("training.optimiser.lr", "explain_lr.txt"),
        ("variables[tp].normaliser", "explain_normaliser.txt"),
        ("training.optimiser", "explain_optimiser.txt"),
        ("task.rollout", "explain_rollout.txt"),
    ],
)
def test_explain_golden(project: Path, capsys: pytest.CaptureFixture[str], field: str, golden: str) -> None:
    code, out, err = _explain(capsys, "exp.anm", field)
    assert (code, err) == (0, "")
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / golden)


def test_unknown_field_suggests_the_closest(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _explain(capsys, "exp.anm", "training.optimizer.lr")
    assert (code, out) == (2, "")
    assert err == "error: the plan has no field 'training.optimizer.lr'; did you mean training.optimiser.lr?\n"


def test_explain_a_built_plan_uses_its_source_map(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "exp.anm"]) == 0
    capsys.readouterr()
    from_source = _explain(capsys, "exp.anm", "training.optimiser.lr")
    from_plan = _explain(capsys, "build/exp/plan.json", "training.optimiser.lr")
    assert from_plan == from_source


def test_explain_a_sweep_member(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = (project / "exp.anm").read_text().split('zarr("')[1].split('"')[0]
    lets = "let rate = 1e-3\nsweep rate in [1e-3, 3e-4]\n"
    (project / "sweep.anm").write_text(experiment_text(Path(store), lr="rate", lets=lets))
    code, out, _ = _explain(capsys, "sweep.anm", "training.optimiser.lr", "--member", "1")
    assert code == 0
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / "explain_sweep.txt")
    assert _explain(capsys, "sweep.anm", "seed", "--member", "5")[0] == 2


def test_broken_plan_file_is_refused_without_traceback(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "plan.json").write_text("{")
    code, out, err = _explain(capsys, "plan.json", "seed")
    assert code == 2 and err.startswith("error: the plan plan.json is not valid JSON")
