"""Without a terminal (a SLURM log, a file) training prints plain progress lines, never a redrawn bar."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.golden import assert_golden
from tests.runtime.training.tiny_run import child_env, runtime_command, write_tiny_plan, write_tiny_store

GOLDEN = Path(__file__).with_name("golden")
PERIODIC = re.compile(r"epoch [12]/2  step \d+/110  loss \S+  \S+ samples/s  ETA \d+:\d\d:\d\d")
EPOCH_END = re.compile(r"epoch ([12])/2 done  step (55|110)/110  loss \S+  val loss \S+  \S+ samples/s  "
                       r"ETA \d+:\d\d:\d\d")


def test_a_run_logged_to_files_prints_periodic_and_epoch_end_lines(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write_tiny_plan(tmp_path, store, **{"training.epochs": 2, "training.limit_batches_per_epoch": 55,
                                               "outputs.checkpoint_every_steps": None})
    with open(tmp_path / "out.log", "w") as out, open(tmp_path / "err.log", "w") as err:
        done = subprocess.run(runtime_command("exec", str(plan)), cwd=tmp_path, env=child_env(), stdout=out,
                              stderr=err, timeout=240)
    stdout, stderr = (tmp_path / "out.log").read_text(), (tmp_path / "err.log").read_text()
    assert done.returncode == 0, stderr[-3000:]
    assert "\r" not in stdout and "\r" not in stderr
    lines = stdout.splitlines()
    progress = [line for line in lines if line.startswith("epoch ")]
    assert [EPOCH_END.fullmatch(line).group(1) for line in progress if " done " in line] == ["1", "2"]
    periodic = [line for line in progress if PERIODIC.fullmatch(line)]
    assert len(periodic) >= 2  # one per epoch at least: every 50 steps or 30 s after the previous line
    assert lines.index(progress[-1]) < next(i for i, line in enumerate(lines) if line.startswith("End of run"))
    shapes = sorted({re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "N", line) for line in progress})
    assert_golden("\n".join(shapes) + "\n", GOLDEN / "progress_lines.txt")
