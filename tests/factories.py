"""A small, valid, hand-built plan for tests of the plan model and the runtime.

Tests that need a store pair this with ``anemoic.datasets.synth`` (a
synthetic store in the anemoi-datasets layout) and pass its path here.
Overrides are (dotted path -> value) so a test states only what it is about:
``make_plan(path, **{"training.batch_size": 2})``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from anemoic.plan.model import (
    DatasetPlan,
    DateRangePlan,
    EdgesPlan,
    GraphPlan,
    IndexPlan,
    LossPlan,
    LossTermPlan,
    ModelPlan,
    NodesPlan,
    OutputsPlan,
    ParallelPlan,
    Plan,
    RolloutPlan,
    ScalerPlan,
    TaskPlan,
    TrackingPlan,
    TrainingPlan,
    VariablePlan,
)

# Variables of the default synthetic store, in store order.
STORE_VARIABLES = ("z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp", "lsm")


def _variables() -> tuple[VariablePlan, ...]:
    prognostic = [
        ("z_500", "z", 500), ("t_500", "t", 500), ("z_850", "z", 850), ("t_850", "t", 850),
        ("2t", None, None), ("10u", None, None), ("10v", None, None), ("msl", None, None),
    ]
    out = [
        VariablePlan(name=n, role="prognostic", store_index=STORE_VARIABLES.index(n), normaliser="mean_std",
                     group=g, level=lev)
        for n, g, lev in prognostic
    ]
    out.append(VariablePlan(name="tp", role="diagnostic", store_index=STORE_VARIABLES.index("tp"),
                            normaliser="std", bounding="relu"))
    out.append(VariablePlan(name="lsm", role="forcing", store_index=STORE_VARIABLES.index("lsm"),
                            normaliser="none"))
    out.append(VariablePlan(name="cos_latitude", role="forcing", store_index=-1, normaliser="none",
                            computed="cos_latitude"))
    return tuple(out)


def make_plan(dataset_path: str = "data/synthetic.zarr", run_dir: str = "runs/test", **overrides: Any) -> Plan:
    variables = _variables()
    prognostic = tuple(v.name for v in variables if v.role == "prognostic")
    forcing = tuple(v.name for v in variables if v.role == "forcing")
    diagnostic = tuple(v.name for v in variables if v.role == "diagnostic")
    output = prognostic + diagnostic
    plan = Plan(
        name="test",
        seed=42,
        dataset=DatasetPlan(
            name="synthetic", path=dataset_path, fingerprint="0" * 64, frequency_s=6 * 3600,
            grid_size=0, ensemble_size=1,
            train=DateRangePlan("2020-01-01T00:00:00", "2020-01-20T18:00:00"),
            validate=DateRangePlan("2020-01-21T00:00:00", "2020-01-25T18:00:00"),
        ),
        variables=variables,
        indices=IndexPlan(
            data=tuple(v.name for v in variables if v.store_index >= 0) + ("cos_latitude",),
            input=prognostic + forcing, output=output,
            prognostic=prognostic, forcing=forcing, diagnostic=diagnostic,
        ),
        graph=GraphPlan(
            name="g", cache_key="0" * 64,
            data=NodesPlan("dataset"), hidden=NodesPlan("icosahedral", {"refinement": 1}),
            encoder=EdgesPlan("cutoff", {"factor": 0.6, "max_neighbours": 64}),
            processor=EdgesPlan("multiscale", {"levels": 1}),
            decoder=EdgesPlan("knn", {"k": 3}),
        ),
        model=ModelPlan(processor="graphtransformer", encoder="graphtransformer", decoder="graphtransformer",
                        channels=32, layers=2, heads=4),
        task=TaskPlan(kind="forecaster", timestep_s=6 * 3600, multistep_input=2,
                      rollout=RolloutPlan(start=1, increment=1, maximum=2, validation=2)),
        loss=LossPlan(
            terms=(LossTermPlan("mse", scalers=("variable", "node_weights")),),
            scalers=(
                ScalerPlan("variable", "variable", weights=tuple(1.0 for _ in output)),
                ScalerPlan("node_weights", "node_weights", params={"attribute": "area_weight"}),
            ),
        ),
        training=TrainingPlan(epochs=1, batch_size=1, num_workers=0, pin_memory=False),
        parallel=ParallelPlan(accelerator="cpu"),
        outputs=OutputsPlan(run_dir=run_dir, tracking=TrackingPlan(enabled=False)),
    )
    for path, value in overrides.items():
        plan = _replace_path(plan, path.split("."), value)
    return plan


def _replace_path(obj: Any, parts: list[str], value: Any) -> Any:
    head, rest = parts[0], parts[1:]
    new = value if not rest else _replace_path(getattr(obj, head), rest, value)
    return dataclasses.replace(obj, **{head: new})
