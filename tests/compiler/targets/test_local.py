"""The local target's run.sh: golden text, bash syntax, and a real run of the script."""

from __future__ import annotations

import subprocess
from pathlib import Path

from anemoic.compiler.targets.local import render_run_script
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def test_single_plan_script_golden() -> None:
    text = render_run_script(source="examples/quickstart.anm", out_dir=Path("/w/build/quickstart"),
                             workdir=Path("/w"), hashes=["ef" * 32])
    assert_golden(text, GOLDEN / "run_single.sh")


def test_sweep_script_golden() -> None:
    text = render_run_script(source="sweep.anm", out_dir=Path("/w/build/sweep"), workdir=Path("/w"),
                             hashes=["01" * 32, "02" * 32])
    assert_golden(text, GOLDEN / "run_sweep.sh")


def test_script_runs_every_member_from_the_workdir(tmp_path: Path) -> None:
    out = tmp_path / "out dir"
    log = tmp_path / "calls.txt"
    program = f"bash -c 'echo \"$PWD $0\" >> {log}'"
    script = out / "run.sh"
    out.mkdir()
    script.write_text(render_run_script(source="s.anm", out_dir=out, workdir=tmp_path, hashes=["a" * 64] * 3,
                                        program=program))
    subprocess.run(["bash", str(script)], check=True)
    assert log.read_text().splitlines() == [f"{tmp_path} {out}/{i}/plan.json" for i in range(3)]
    subprocess.run(["bash", str(script), "1"], check=True)
    assert log.read_text().splitlines()[-1] == f"{tmp_path} {out}/1/plan.json"
