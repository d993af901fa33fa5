"""Field addresses shared by the source map, explain and diff."""

from __future__ import annotations

from anemoic.plan.convert import plan_to_dict
from anemoic.plan.paths import flatten, parent, source_of, under
from tests.factories import make_plan


def test_flatten_addresses_named_records_by_name_and_others_by_position() -> None:
    flat = flatten(plan_to_dict(make_plan()))
    assert flat["variables[2t].normaliser"] == "mean_std"
    assert flat["loss.scalers[variable].kind"] == "variable"
    assert flat["loss.terms[0].kind"] == "mse"
    assert flat["training.optimiser.betas"] == [0.9, 0.95]
    assert flat["graph.hidden.params.refinement"] == 1
    assert flat["graph.data.params"] == {}
    assert "source_map" not in flat and not any(k.startswith("source_map") for k in flat)


def test_parent_chain() -> None:
    assert parent("variables[2t].normaliser") == "variables[2t]"
    assert parent("variables[2t]") == "variables"
    assert parent("variables") is None
    assert parent("loss.terms[0].kind") == "loss.terms[0]"


def test_source_of_falls_back_to_the_nearest_ancestor() -> None:
    source_map = {"training": "exp.anm:30:1", "training.optimiser.lr": "exp.anm:31:8"}
    assert source_of(source_map, "training.optimiser.lr") == "exp.anm:31:8"
    assert source_of(source_map, "training.optimiser.betas") == "exp.anm:30:1"
    assert source_of(source_map, "model.channels") is None


def test_under() -> None:
    assert under("training.optimiser.lr", "training")
    assert under("variables[2t].role", "variables")
    assert under("training", "training")
    assert not under("training_x", "training")
