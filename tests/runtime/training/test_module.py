"""Validation logs the plan's metrics per variable and lead, area-weighted in physical units (an ensemble's too)."""

from __future__ import annotations

import math

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from torch_geometric.data import HeteroData

from anemoic.plan.model import LossTermPlan, MethodPlan, NoisePlan, Plan, RolloutPlan
from anemoic.runtime.data.preprocessing import Preprocessor
from anemoic.runtime.losses import build_loss
from anemoic.runtime.tasks import TASKS
from anemoic.runtime.training.module import ForecastModule
from tests.factories import STORE_VARIABLES, make_plan

WEIGHTS = torch.tensor([0.5, 0.5])
ERRORS = torch.tensor([1.0, -3.0])  # forecast - target at the two grid points, for every variable


class KnownErrors(torch.nn.Module):
    """Predicts ``ERRORS`` at every grid point whatever the input; the targets are zeros."""

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.outputs = outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, members, grid, _ = x.shape
        return ERRORS.view(1, 1, grid, 1).expand(batch, members, grid, self.outputs).clone()


def _validate(plan: Plan, model: torch.nn.Module | None = None) -> dict[str, float]:
    n = len(STORE_VARIABLES)
    statistics = {"mean": np.zeros(n), "stdev": np.ones(n), "minimum": -np.ones(n), "maximum": np.ones(n)}
    graph = HeteroData()
    graph["data"].area_weight = WEIGHTS
    model = model if model is not None else KnownErrors(len(plan.indices.output))
    module = ForecastModule(plan, model, build_loss(plan, graph),
                            Preprocessor.from_plan(plan, statistics), TASKS[plan.task.kind].from_plan(plan), WEIGHTS,
                            total_steps=1, lineage={})
    sample = torch.zeros(plan.task.multistep_input + plan.task.rollout.validation, 1, 2, len(plan.indices.data))
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    return trainer.validate(module, DataLoader([sample], batch_size=1), verbose=False)[0]


def _plan(**overrides: object) -> Plan:
    return make_plan(**{"task.multistep_input": 1, "task.rollout": RolloutPlan(validation=2), **overrides})


def test_each_listed_metric_is_logged_per_variable_and_lead() -> None:
    logged = _validate(_plan(**{"loss.metrics": ("rmse", "mae", "bias")}))
    for name in ("2t", "tp"):
        for lead in (1, 2):
            assert logged[f"val/rmse/{name}/{lead}"] == pytest.approx(math.sqrt(0.5 * 1 + 0.5 * 9))
            assert logged[f"val/mae/{name}/{lead}"] == pytest.approx(0.5 * 1 + 0.5 * 3)
            assert logged[f"val/bias/{name}/{lead}"] == pytest.approx(0.5 * 1 - 0.5 * 3)


def test_by_default_only_rmse_is_logged() -> None:
    logged = _validate(_plan())
    assert {key.split("/")[1] for key in logged if key != "val/loss"} == {"rmse"}
    assert len(logged) == 1 + 2 * len(_plan().indices.output)


class KnownMembers(torch.nn.Module):
    """An ensemble of two members predicting 1 and 3 at every grid point and variable (the targets are zeros)."""

    def __init__(self, outputs: int) -> None:
        super().__init__()
        self.outputs = outputs

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        batch, _, members, grid, _ = x.shape
        assert members == 2 and generator is not None  # the method grew the members and passed the noise stream
        values = torch.tensor([1.0, 3.0]).view(1, 2, 1, 1)
        return values.expand(batch, 2, grid, self.outputs).clone()


def test_an_ensemble_logs_its_distribution_metrics_with_their_closed_forms() -> None:
    plan = _plan(**{"task.method": MethodPlan("ensemble", 2, NoisePlan("inject")),
                    "loss.terms": (LossTermPlan("crps", params={"alpha": 1.0}, scalers=("node_weights",)),),
                    "loss.metrics": ("rmse", "mae", "bias", "crps", "spread", "spread_skill", "rank_histogram")})
    logged = _validate(plan, KnownMembers(len(plan.indices.output)))
    for name in ("2t", "tp"):
        for lead in (1, 2):
            assert logged[f"val/rmse/{name}/{lead}"] == pytest.approx(2.0)  # the ensemble mean is 2
            assert logged[f"val/mae/{name}/{lead}"] == pytest.approx(2.0)
            assert logged[f"val/bias/{name}/{lead}"] == pytest.approx(2.0)
            # fair CRPS: (|1| + |3|) / 2 - (|1 - 3| + |3 - 1|) / (2 * 2 * 1) = 2 - 1
            assert logged[f"val/crps/{name}/{lead}"] == pytest.approx(1.0)
            assert logged[f"val/spread/{name}/{lead}"] == pytest.approx(math.sqrt(2.0))  # unbiased variance 2
            assert logged[f"val/spread_skill/{name}/{lead}"] == pytest.approx(math.sqrt(1.5) * math.sqrt(2.0) / 2)
            ranks = [logged[f"val/rank_histogram/{name}/{lead}/{rank}"] for rank in range(3)]
            assert ranks == pytest.approx([1.0, 0.0, 0.0])  # the truth (0) lies below both members


def test_training_draws_new_noise_each_epoch_and_validation_the_same_noise_every_time() -> None:
    from types import SimpleNamespace

    from anemoic.runtime.methods import Stream

    plan = _plan(**{"task.method": MethodPlan("ensemble", 2, NoisePlan("inject"))})
    module = ForecastModule(plan, KnownMembers(len(plan.indices.output)), torch.nn.Identity(), torch.nn.Identity(),
                            TASKS[plan.task.kind].from_plan(plan), WEIGHTS, total_steps=1, lineage={})

    def state(stream: Stream, epoch: int) -> torch.Tensor:
        module._trainer = SimpleNamespace(global_rank=0, current_epoch=epoch)
        return module.bound_model(stream, 3).keywords["generator"].get_state()

    assert not torch.equal(state(Stream.TRAIN, 0), state(Stream.TRAIN, 1))
    assert torch.equal(state(Stream.VALIDATE, 0), state(Stream.VALIDATE, 1))
    assert not torch.equal(state(Stream.VALIDATE, 0), state(Stream.TRAIN, 0))
