"""The end-of-run report text (golden) and the score sums behind it."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from anemoic.runtime.training.report import format_lead, format_report
from anemoic.runtime.training.scores import ScoreSums
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def _constant_error_scores(errors: dict[str, list[list[float]]]) -> ScoreSums:
    """Scores where kind k has error errors[k][lead][variable] at every grid point."""
    first = next(iter(errors.values()))
    scores = ScoreSums(len(first), len(first[0]))
    weights = torch.tensor([0.5, 0.25, 0.25])
    target = torch.zeros(2, len(first), 1, 3, len(first[0]))
    for kind, table in errors.items():
        forecast = torch.tensor(table).view(1, len(first), 1, 1, -1).expand_as(target)
        scores.add(kind, forecast, target, weights)
    return scores


def test_rmse_is_area_weighted_and_ignores_nan_targets() -> None:
    scores = ScoreSums(1, 1)
    target = torch.tensor([0.0, 0.0, float("nan")]).view(1, 1, 1, 3, 1)
    forecast = torch.tensor([1.0, 3.0, 100.0]).view(1, 1, 1, 3, 1)
    scores.add("model", forecast, target, torch.tensor([0.75, 0.25, 0.5]))
    assert math.isclose(float(scores.rmse("model")[0, 0]), math.sqrt(0.75 * 1 + 0.25 * 9))
    assert scores.samples == 1


def test_reduce_sums_over_ranks() -> None:
    scores = _constant_error_scores({"model": [[1.0]]})
    scores.reduce(lambda t: t * 2)  # what an all-reduce over two identical ranks returns
    assert scores.samples == 4 and math.isclose(float(scores.rmse("model")[0, 0]), 1.0)


def test_end_of_run_report_text() -> None:
    scores = _constant_error_scores({
        "model": [[0.5, 2.0e-4, 1200.0], [0.8, 3.0e-4, 1500.0]],
        "persistence": [[1.0, 1.0e-4, 1000.0], [1.6, 2.0e-4, 1400.0]],
        "climatology": [[2.0, 4.0e-4, 3000.0], [2.0, 4.0e-4, 3000.0]],
    })
    text = format_report(scores, ("2t", "tp", "z_500"), 6 * 3600, title="End of run demo: validation RMSE")
    assert_golden(text, GOLDEN / "report.txt")


def test_lead_labels() -> None:
    assert [format_lead(s) for s in (21600, 86400, 30 * 86400, 5400, 7, 2 * 2_629_800, 0)] == [
        "+6h", "+1d", "+30d", "+90m", "+7s", "+2mo", "+0"]
