"""``anemoi-runtime exec`` of a stretched-grid plan end to end on CPU: nothing is forced, both datasets are
scored, and the report says so and scores each dataset on its own points too."""

from __future__ import annotations

import json

from tests.runtime.lam import TrainedRun, trained_stretched  # noqa: F401
from tests.runtime.training.tiny_run import run_runtime

SCORED = ("Scored over both datasets: the region `pacific` (252 points) and `globe` (582 points); nothing is forced "
          "(a stretched grid)")


def test_exec_trains_a_stretched_grid_and_reports_each_dataset(trained_stretched: TrainedRun) -> None:
    report = (trained_stretched.run_dir / "report.txt").read_text()
    assert SCORED in report and report in trained_stretched.stdout
    assert "RMSE over `pacific` alone" in report and "RMSE over `globe` alone" in report
    assert list((trained_stretched.run_dir / "checkpoints").glob("*.ckpt"))


def test_validation_metrics_are_logged_for_each_dataset_too(trained_stretched: TrainedRun) -> None:
    logged = json.loads((trained_stretched.run_dir / "ranks" / "rank-0.json").read_text())["validation"]
    whole, region, outer = (logged[f"val/{at}rmse/z_500/1"] for at in ("", "pacific/", "globe/"))
    assert min(region, outer) < whole < max(region, outer)  # the whole grid's RMSE lies between its parts'


def test_a_dry_run_says_the_grid_is_stretched(trained_stretched: TrainedRun) -> None:
    dry = run_runtime("exec", str(trained_stretched.plan), "--dry-run", cwd=trained_stretched.directory, timeout=240)
    assert dry.returncode == 0, dry.stderr[-4000:]
    assert ("834 grid points: the region `pacific` (252) and 582 points of `globe` around it (a stretched grid: "
            "both forecast and scored)") in dry.stdout
