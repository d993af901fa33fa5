"""``anemoi-runtime exec`` of a limited-area plan end to end on CPU, deterministic and ensemble: it trains a few
steps on the region with the boundary forced, reports skipped samples once, and its report says what it scored."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.plan.model import LossTermPlan, MethodPlan, NoisePlan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.build import check_limited_area
from tests.runtime.lam import TrainedRun, lam_plan, trained_lam, write_globe, write_lam_plan, write_region  # noqa: F401
from tests.runtime.training.tiny_run import run_runtime

SCORED = "Scored over the region `pacific` (252 points); the boundary (582 points of `globe`) is forced, not scored"
ENSEMBLE = {
    "task.method": MethodPlan("ensemble", 2, NoisePlan("inject")),
    "loss.terms": (LossTermPlan("crps", params={"alpha": 0.95}, scalers=("variable", "node_weights")),),
    "loss.metrics": ("rmse", "crps", "spread_skill"),
}


def test_exec_trains_a_deterministic_limited_area_model(trained_lam: TrainedRun) -> None:
    report = (trained_lam.run_dir / "report.txt").read_text()
    assert SCORED in report and report in trained_lam.stdout
    assert list((trained_lam.run_dir / "checkpoints").glob("*.ckpt"))


def test_exec_trains_an_ensemble_and_counts_the_samples_a_store_lacks_dates_of(tmp_path: Path) -> None:
    region = write_region(tmp_path)
    globe = write_globe(tmp_path, seed=5, missing_dates=["2020-01-05T00:00"])
    plan = write_lam_plan(tmp_path, region, globe, **ENSEMBLE)
    dry = run_runtime("exec", str(plan), "--dry-run", cwd=tmp_path, timeout=240)
    assert dry.returncode == 0, dry.stderr[-4000:]
    skipped = "4 training samples skipped: dates missing in globe (2020-01-05T00)"
    assert dry.stdout.splitlines()[0] == skipped
    assert ("834 grid points: the region `pacific` (252, scored) and 582 points of `globe` around it"
            in dry.stdout)
    result = run_runtime("exec", str(plan), cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    report = (tmp_path / "run" / "report.txt").read_text()
    assert SCORED in report and skipped in report and "2-member ensemble's CRPS" in report
    assert result.stdout.count(skipped) == 2  # once at the start, once in the report


def test_a_sharded_or_non_forecaster_limited_area_plan_is_refused_in_one_line(tmp_path: Path) -> None:
    region, globe = write_region(tmp_path), write_globe(tmp_path)
    with pytest.raises(RuntimeUserError, match="not sharded by this runtime"):
        check_limited_area(lam_plan(region, globe, tmp_path, **{"parallel.gpus_per_model": 2}))
    check_limited_area(lam_plan(region, globe, tmp_path))
