"""The same numbers on every parallel layout: real ``exec`` runs on gloo, compared after 3 optimiser steps.

Weights, each step's logged training loss and gradient norm (a sharded group that averaged instead of
summed its gradients would show here: AdamW alone hides a gradient's scale) and every validation metric
must agree with one rank training batch 2 to 1e-6 relative. The default suite trains three layouts of a
model with a GNN encoder and GraphTransformer processor and decoder that between them use both shard
strategies, a kept-sharded batch, read groups, chunked mappers and MLflow plots; ``ANEMOIC_SLOW=1`` trains
the whole matrix for the GraphTransformer and the GNN processor.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from anemoic.plan.model import TrackingPlan
from tests.runtime.distributed.layouts import LAYOUTS, Run, differences, train, write_store

TOLERANCE = 1e-6


def _consistent(run: Run) -> None:
    """Every rank of a run ends with the same weights, and the group's ranks read their own grid slices."""
    ranks = run.ranks()
    assert len({r["weights_sha256"] for r in ranks}) == 1, run.name
    assert len({r["global_step"] for r in ranks}) == 1, run.name


def test_sharded_layouts_train_like_one_rank(tmp_path: Path) -> None:
    store = write_store(tmp_path)
    mixed = {"model.encoder": "gnn"}
    single = train(tmp_path, store, "single", **mixed)
    tracking = TrackingPlan(enabled=True, uri=f"sqlite:///{tmp_path / 'mlflow.db'}", experiment="sharded",
                            run_name="model2", system_metrics=False)
    edges = train(tmp_path, store, "model2", **{"parallel.keep_batch_sharded": True, "parallel.read_group_size": 2,
                                                "model.num_chunks": 2, "outputs.tracking": tracking, **mixed})
    heads = train(tmp_path, store, "data_x_model", **{"parallel.shard_strategy": "heads", "parallel.read_group_size": 2,
                                                      **mixed})
    for run in (edges, heads):
        _consistent(run)
        found = differences(run, single)
        assert found.within(TOLERANCE), (run.name, found)
    assert [r["read_grid"] for r in edges.ranks()] == [[0, 64], [64, 128]]  # 8 x 16 grid: halves, no rank all
    assert [r["read_grid"] for r in heads.ranks()] == [[0, 64], [64, 128]] * 2
    assert edges.stdout.count("End of run") == 1  # the report: rank 0 alone, the model unsharded
    _plots_logged(tmp_path / "mlflow.db")


def _plots_logged(database: Path) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{database}")
    (run,) = client.search_runs([client.get_experiment_by_name("sharded").experiment_id])
    plots = [a.path for a in client.list_artifacts(run.info.run_id, "plots")]
    assert any(p.startswith("plots/fields-") for p in plots), plots  # the whole grid, gathered from the shards
    assert "val/rmse/2t/1" in run.data.metrics


@pytest.mark.slow
@pytest.mark.parametrize("processor, strategy", list(itertools.product(("graphtransformer", "gnn"), ("edges", "heads"))))
def test_every_layout_trains_like_one_rank(tmp_path: Path, processor: str, strategy: str) -> None:
    store = write_store(tmp_path)
    settings = {"model.processor": processor, "parallel.shard_strategy": strategy}
    single = train(tmp_path, store, "single", **{"model.processor": processor})
    for layout in LAYOUTS:
        if layout == "single":
            continue
        run = train(tmp_path, store, layout, **(settings if "model" in layout else {"model.processor": processor}))
        _consistent(run)
        found = differences(run, single)
        print(f"{processor} {strategy} {layout}: {found}")
        assert found.within(TOLERANCE), (layout, found)
