"""`anemoic build` end to end: compile a real experiment against a real store, write, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from anemoic.plan.io import read_plan
from tests.compiler.targets.project import experiment_text, normalise, shared_store
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
SWEEP = "let width = 32\nlet rate = 1e-3\nsweep rate in [1e-3, 3e-4]\nsweep width in [16, 32]\n"


@pytest.fixture
def project(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    store = shared_store(tmp_path_factory)
    (tmp_path / "exp.anm").write_text(experiment_text(store))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_local_build_writes_plan_and_script(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "build", "exp.anm")
    assert (code, err) == (0, "")
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / "build_local.txt")
    plan_file, script = project / "build/exp/plan.json", project / "build/exp/run.sh"
    plan = read_plan(plan_file)
    assert plan.estimates.parameter_count > 0 and plan.estimates.graph_nodes["hidden"] == 162
    assert json.loads(plan_file.read_text())["plan_hash"] in script.read_text()
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_slurm_build_writes_a_job_script(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "build", "exp.anm", "--target", "slurm", "-o", "out/slurm")
    assert code == 0
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / "build_slurm.txt")
    text = (project / "out/slurm/job.sbatch").read_text()
    assert "#SBATCH --ntasks-per-node=2\n" in text and "#SBATCH --partition=debug\n" in text
    assert f"#SBATCH --chdir={project}\n" in text
    assert subprocess.run(["bash", "-n", str(project / "out/slurm/job.sbatch")]).returncode == 0


def test_same_source_gives_the_same_bytes_and_comments_do_not_change_the_hash(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "build", "exp.anm", "-o", "a")[0] == 0
    assert _run(capsys, "build", "exp.anm", "-o", "b")[0] == 0
    assert (project / "a/plan.json").read_bytes() == (project / "b/plan.json").read_bytes()
    text = (project / "exp.anm").read_text()
    reformatted = "// a comment on top\n\n" + text.replace("epochs = 2;", "epochs   =   2 ;  # two\n")
    (project / "exp.anm").write_text(reformatted)
    assert _run(capsys, "build", "exp.anm", "-o", "c")[0] == 0
    a, c = (json.loads((project / d / "plan.json").read_text()) for d in ("a", "c"))
    assert a["plan_hash"] == c["plan_hash"]
    assert a["source_map"] != c["source_map"]  # the lines moved; only the map says so


def test_sweep_builds_one_plan_per_member_and_a_job_array(project: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = shared_store_path(project)
    (project / "sweep.anm").write_text(experiment_text(store, channels="width", lr="rate", lets=SWEEP,
                                                       site_extra="; device_memory = 1MB"))
    code, out, _ = _run(capsys, "build", "sweep.anm", "--target", "slurm")
    assert code == 0
    assert_golden(normalise(out, (project, "<project>")), GOLDEN / "build_sweep.txt")
    plans = [read_plan(project / f"build/sweep/{i}/plan.json") for i in range(4)]
    assert [p.sweep.index for p in plans] == [0, 1, 2, 3]
    assert len({json.loads((project / f"build/sweep/{i}/plan.json").read_text())["plan_hash"]
                for i in range(4)}) == 4
    text = (project / "build/sweep/job.sbatch").read_text()
    assert "#SBATCH --array=0-3\n" in text and '"$SLURM_ARRAY_TASK_ID"/plan.json' in text


def shared_store_path(project: Path) -> str:
    line = next(line for line in (project / "exp.anm").read_text().splitlines() if "zarr(" in line)
    return line.split('"')[1]


def test_missing_file_and_compile_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "build", "nope.anm")
    assert (code, out, err) == (2, "", "error: nope.anm: no such experiment file\n")
    (project / "bad.anm").write_text((project / "exp.anm").read_text().replace("epochs = 2", "epochs = two"))
    code, out, _ = _run(capsys, "build", "bad.anm")
    assert code == 1 and "error[" in out and not (project / "build/bad").exists()


def test_missing_dataset_is_an_error_for_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "nodata.anm").write_text(experiment_text(project / "absent.zarr"))
    code, out, _ = _run(capsys, "build", "nodata.anm")
    assert code == 1 and "absent.zarr" in out and not (project / "build/nodata").exists()


def test_unwritable_output_is_a_clear_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "blocker").write_text("")
    code, out, err = _run(capsys, "build", "exp.anm", "-o", "blocker/x")
    assert code == 2 and err.startswith("error: cannot write") and "Traceback" not in err


def test_build_does_not_import_torch(project: Path) -> None:
    code = ("import sys; from anemoic.cli.anemoic import main; rc = main(['build', 'exp.anm']); "
            "print(rc, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=project,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])})
    assert out.stdout.strip().splitlines()[-1] == "0 False", out.stderr
