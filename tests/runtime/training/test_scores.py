"""Score sums of ensembles: a reliable ensemble's spread/skill ratio is 1 and its rank histogram flat; a single
state's CRPS is its MAE; members with NaN are not scored."""

from __future__ import annotations

import pytest
import torch

from anemoic.runtime.training.scores import ScoreSums

ALL = ("rmse", "mae", "bias", "crps", "spread", "spread_skill", "rank_histogram")


def _reliable(members: int, samples: int = 4000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Truth and members drawn from the same distribution around a random centre: a perfectly reliable ensemble."""
    generator = torch.Generator().manual_seed(seed)
    centre = 3.0 * torch.randn(samples, 1, 1, 5, 2, generator=generator, dtype=torch.float64)
    truth = centre + torch.randn(samples, 1, 1, 5, 2, generator=generator, dtype=torch.float64)
    forecast = centre + torch.randn(samples, 1, members, 5, 2, generator=generator, dtype=torch.float64)
    return forecast, truth


@pytest.mark.parametrize("members", [2, 4, 8])
def test_a_reliable_ensemble_has_spread_skill_one_and_a_flat_rank_histogram(members: int) -> None:
    forecast, truth = _reliable(members)
    scores = ScoreSums(1, 2, metrics=ALL)
    scores.add("model", forecast, truth, torch.full((5,), 0.2))
    assert scores.score("model", "spread_skill") == pytest.approx(torch.ones(1, 2), abs=0.05)
    histogram = scores.score("model", "rank_histogram")
    assert histogram.shape == (1, 2, members + 1)
    assert histogram == pytest.approx(torch.full((1, 2, members + 1), 1 / (members + 1)), abs=0.02)
    # an under-dispersive ensemble (half the spread) is flagged by both
    mean = forecast.mean(dim=2, keepdim=True)
    narrow = mean + 0.5 * (forecast - mean)
    scores = ScoreSums(1, 2, metrics=ALL)
    scores.add("model", narrow, truth, torch.full((5,), 0.2))
    assert float(scores.score("model", "spread_skill").max()) < 0.7
    edges = scores.score("model", "rank_histogram")[..., [0, -1]].sum(dim=-1)
    assert float(edges.min()) > 1.15 * 2 / (members + 1)  # the truth falls outside the members too often


def test_a_single_state_scores_its_absolute_error_as_crps_and_no_spread() -> None:
    forecast = torch.tensor([1.0, -3.0], dtype=torch.float64).view(1, 1, 1, 2, 1)
    scores = ScoreSums(1, 1, metrics=ALL)
    scores.add("model", forecast, torch.zeros_like(forecast), torch.tensor([0.5, 0.5]))
    assert float(scores.score("model", "crps")) == pytest.approx(2.0) == float(scores.score("model", "mae"))
    assert float(scores.score("model", "spread")) == 0.0


def test_a_point_where_a_member_is_missing_is_not_scored() -> None:
    forecast = torch.tensor([[1.0, 3.0], [float("nan"), 5.0]], dtype=torch.float64).T.reshape(1, 1, 2, 2, 1)
    scores = ScoreSums(1, 1, metrics=("rmse", "crps"))
    scores.add("model", forecast, torch.zeros(1, 1, 1, 2, 1, dtype=torch.float64), torch.tensor([0.5, 0.5]))
    assert float(scores.score("model", "rmse")) == pytest.approx(2.0)  # only the first point: members 1 and 3
    assert float(scores.score("model", "crps")) == pytest.approx(1.0)
