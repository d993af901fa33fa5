"""``dataset_weights``: a stretched grid's region carries the given share of the total node weight, and its loss
answers to the outer dataset's target (it is scored), which a limited-area model's does not (it is forced)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.runtime.losses.builder import build_loss
from anemoic.runtime.losses.scalers import reweight_datasets
from anemoic.runtime.tasks.forecaster import ForecasterTask
from anemoic.runtime.training.build import build_graph_for, output_weights
from tests.factories import make_plan
from tests.runtime.lam import lam_plan, stretched_plan, write_globe, write_region

REGION, OUTER = 252, 582  # the points of the test region and of the globe around it
OUTPUT = make_plan().indices.output


def test_reweighting_gives_the_region_its_share_and_keeps_each_parts_shape() -> None:
    node = torch.tensor([1.0, 3.0, 2.0, 2.0, 4.0])
    out = reweight_datasets(node, 2, 0.25)
    assert torch.isclose(out.sum(), node.sum())
    assert torch.isclose(out[:2].sum() / out.sum(), torch.tensor(0.25))
    assert torch.allclose(out[:2] / out[0], node[:2] / node[0]) and torch.allclose(out[2:] / out[2], node[2:] / 2)
    with pytest.raises(ValueError, match="both datasets"):
        reweight_datasets(node, 5, 0.5)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    directory = tmp_path_factory.mktemp("stores")
    return write_region(directory), write_globe(directory, seed=5), directory


def _loss_and_graph(plan):
    data = AnemoicDataModule(plan)
    graph = build_graph_for(plan, data.latitudes, data.longitudes, None)
    return build_loss(plan, graph), graph


def _errors(where: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """pred, target (B, E, G, V) differing by 1 on the points ``where``."""
    target = torch.zeros(1, 1, REGION + OUTER, len(OUTPUT))
    pred = target.clone()
    pred[..., where, :] = 1.0
    return pred, target


@pytest.mark.parametrize("share", [0.5, 0.8])
def test_a_stretched_grids_loss_shares_the_node_weight_between_its_datasets(stores, share: float) -> None:
    region, globe, directory = stores
    loss, _ = _loss_and_graph(stretched_plan(region, globe, directory / "run", share=share))
    inside, outside = float(loss(*_errors(slice(0, REGION)))), float(loss(*_errors(slice(REGION, None))))
    assert inside / (inside + outside) == pytest.approx(share, rel=1e-5)


def test_the_outer_datasets_target_is_scored_on_a_stretched_grid_and_not_on_a_limited_area_model(stores) -> None:
    region, globe, directory = stores
    pred, target = _errors(slice(0, 10))
    moved = target.clone()
    moved[..., REGION:, :] += 3.0  # another outer dataset: the region's target is the same
    for plan, answers in ((stretched_plan(region, globe, directory / "run"), True),
                          (stretched_plan(region, globe, directory / "run", share=None), True),
                          (lam_plan(region, globe, directory / "run"), False)):
        loss, graph = _loss_and_graph(plan)
        assert (float(loss(pred, target)) != float(loss(pred, moved))) is answers
        weights = output_weights(plan, graph)
        assert len(weights) == (REGION + OUTER if answers else REGION)
        assert torch.isclose(weights.sum(), torch.tensor(1.0))


def test_only_a_limited_area_model_is_forced_at_its_boundary(stores) -> None:
    region, globe, directory = stores
    assert ForecasterTask.from_plan(lam_plan(region, globe, directory / "run")).forced_from == REGION
    assert ForecasterTask.from_plan(stretched_plan(region, globe, directory / "run")).forced_from is None
