"""Compile-time estimates: the parameter count equals the real model's, memory scales as documented."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from anemoic.compiler.estimates import GIB, estimate, memory_warnings, parameter_count, with_estimates
from anemoic.plan.model import MethodPlan, NoisePlan, TaskPlan
from tests.factories import make_plan

_HAS_RUNTIME_MODEL = all(importlib.util.find_spec(m) is not None for m in
                         ("torch", "anemoic.runtime.models.builder", "anemoic.graphs.build"))


def _grid(n_lat: int = 8, n_lon: int = 16) -> tuple[np.ndarray, np.ndarray]:
    lats = np.linspace(-80.0, 80.0, n_lat)
    lons = np.linspace(0.0, 360.0, n_lon, endpoint=False)
    lat, lon = np.meshgrid(lats, lons, indexing="ij")
    return lat.ravel(), lon.ravel()


@pytest.mark.skipif(not _HAS_RUNTIME_MODEL, reason="anemoic.runtime.models / graphs (torch) are not importable")
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"model.processor": "gnn", "model.encoder": "gnn", "model.decoder": "gnn"},
        {"model.processor": "transformer", "model.window_size": 8, "model.activation": "swiglu"},
        {"model.processor": "mlp", "model.norm": "rmsnorm", "model.qk_norm": True, "model.activation": "geglu"},
        {"model.qk_norm": True, "model.mlp_hidden_ratio": 2, "task.multistep_input": 1},
        {"task.method": MethodPlan("ensemble", 4, NoisePlan("inject", channels=3, hidden=8))},
        {"task.method": MethodPlan("ensemble", 2, NoisePlan("condition")), "model.activation": "swiglu",
         "model.norm": "rmsnorm"},
        {"task": TaskPlan(kind="temporal_downscaler", timestep_s=6 * 3600, multistep_input=2, input_offsets=(0, 4),
                          target_offsets=(1, 2, 3))},  # a row of the output projection per target
        {"task": TaskPlan(kind="autoencoder", timestep_s=6 * 3600)},  # no processor built
    ],
)
def test_parameter_count_equals_the_built_model(overrides: dict[str, object]) -> None:
    from anemoic.runtime.models.graph_tensors import build_graph
    from anemoic.runtime.models.builder import build_model

    lat, lon = _grid()
    plan = make_plan(**{"dataset.grid_size": lat.size, **overrides})
    graph = build_graph(plan.graph, lat, lon)
    model = build_model(plan, graph)
    real = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert parameter_count(plan, graph["data"].num_nodes, graph["hidden"].num_nodes) == real
    assert estimate(plan).parameter_count == real  # the size estimator agrees on node counts


def test_estimates_fill_graph_sizes() -> None:
    plan = make_plan(**{"dataset.grid_size": 128})
    est = estimate(plan)
    assert est.graph_nodes == {"data": 128, "hidden": 42}  # icosahedral refinement 1: 10*4+2
    assert set(est.graph_edges) == {"encoder", "processor", "decoder"}
    assert est.graph_edges["decoder"] == 3 * 128  # knn k=3 per data node
    assert est.parameter_state_bytes_per_gpu == 16 * est.parameter_count


def test_memory_scales_with_batch_precision_sharding_and_checkpointing() -> None:
    base = make_plan(**{"dataset.grid_size": 4000, "model.layers": 8})
    act = estimate(base).activation_bytes_per_gpu
    assert estimate(make_plan(**{"dataset.grid_size": 4000, "model.layers": 8, "training.batch_size": 2})
                    ).activation_bytes_per_gpu == 2 * act
    assert estimate(make_plan(**{"dataset.grid_size": 4000, "model.layers": 8,
                                 "training.precision": "bf16-mixed"})).activation_bytes_per_gpu == pytest.approx(
        act * 0.6, abs=2)
    assert estimate(make_plan(**{"dataset.grid_size": 4000, "model.layers": 8,
                                 "parallel.gpus_per_model": 2})).activation_bytes_per_gpu == pytest.approx(
        act / 2, abs=1)
    members = estimate(make_plan(**{"dataset.grid_size": 4000, "model.layers": 8,
                                    "task.method": MethodPlan("ensemble", 4, NoisePlan("inject"))}))
    assert members.activation_bytes_per_gpu == 4 * act  # every device holds all members of its samples
    rollout = estimate(make_plan(**{"dataset.grid_size": 4000, "model.layers": 8, "task.rollout.maximum": 6}))
    assert rollout.activation_bytes_per_gpu == pytest.approx(3 * act, abs=3)  # factory plan: maximum 2
    deep = {"dataset.grid_size": 500, "model.layers": 16, "graph.hidden.params": {"refinement": 4}}
    full = estimate(make_plan(**deep)).activation_bytes_per_gpu
    recomputed = estimate(make_plan(**deep, **{"model.gradient_checkpointing": True})).activation_bytes_per_gpu
    assert recomputed < full / 3


def test_warning_when_memory_exceeds_the_device() -> None:
    plan = make_plan(**{"dataset.grid_size": 128, "site.device_memory_gb": 1e-6,
                        "source_map": {"site": "exp.anm:40:1"}})
    filled, warnings = with_estimates(plan)
    assert filled.estimates.parameter_count > 0
    assert [w.code for w in warnings] == ["W0906"]
    assert "exceeds the site's device memory (1e-06 GiB)" in warnings[0].message
    assert warnings[0].span is not None and warnings[0].span.location() == "exp.anm:40:1"
    roomy = make_plan(**{"dataset.grid_size": 128, "site.device_memory_gb": 80.0})
    assert memory_warnings(with_estimates(roomy)[0]) == []
    assert GIB == 2**30
