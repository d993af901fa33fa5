"""The same training on several parallel layouts (real ``exec`` runs, gloo), and how far their results differ.

Layouts of one effective batch of two samples per optimiser step:

* ``single``: 1 rank, batch 2;
* ``data``: 2 data-parallel ranks, batch 1 each;
* ``model2`` / ``model4``: one model group of 2 / 4 ranks, batch 1, 2 batches accumulated per step;
* ``data_x_model``: 2 model groups of 2 ranks (2 x 2), batch 1.

The store has missing values in ``2t`` (imputed, masked out of the loss by a ``nan_mask`` scaler) and the
loss weighs nodes by area, so imputers, NaN masks and node scalers are part of every comparison.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.model import ImputerPlan, LossTermPlan, ScalerPlan
from anemoic.runtime.training.checkpoints import list_checkpoints
from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan

STEPS = 3
LAYOUTS: dict[str, dict[str, Any]] = {
    "single": {"training.batch_size": 2, "training.limit_batches_per_epoch": STEPS},
    "data": {"parallel.processes_per_node": 2, "training.limit_batches_per_epoch": STEPS},
    "model2": {"parallel.processes_per_node": 2, "parallel.gpus_per_model": 2, "training.accumulate_grad_batches": 2,
               "training.limit_batches_per_epoch": 2 * STEPS},
    "model4": {"parallel.processes_per_node": 4, "parallel.gpus_per_model": 4, "training.accumulate_grad_batches": 2,
               "training.limit_batches_per_epoch": 2 * STEPS},
    "data_x_model": {"parallel.processes_per_node": 4, "parallel.gpus_per_model": 2,
                     "training.limit_batches_per_epoch": STEPS},
}
# RMS norms and normalised queries and keys: no weight whose gradient is zero by symmetry (a key bias is,
# softmax ignoring a constant logit: AdamW turns its rounding noise into lr-sized steps on every layout)
MODEL = {"model.channels": 16, "model.heads": 4, "model.qk_norm": True, "model.norm": "rmsnorm"}


def write_store(directory: Path) -> Path:
    return write_synthetic_store(directory / "nans.zarr", grid=(8, 16), end="2020-01-25T18:00", nan_fraction=0.05,
                                 nan_variables=("2t",))


def with_missing_values(plan: Any) -> Any:
    """``2t`` imputed with its mean and masked out of the loss where it was missing."""
    variables = tuple(dataclasses.replace(v, imputer=ImputerPlan("statistic", statistic="mean")) if v.name == "2t"
                      else v for v in plan.variables)
    loss = plan.loss
    term = dataclasses.replace(loss.terms[0], scalers=(*loss.terms[0].scalers, "nan_mask"))
    loss = dataclasses.replace(loss, terms=(term,), scalers=(*loss.scalers, ScalerPlan("nan_mask", "nan_mask")))
    return dataclasses.replace(plan, variables=variables, loss=loss)


@dataclass(frozen=True)
class Run:
    name: str
    directory: Path
    stdout: str

    def ranks(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted((self.directory / "run" / "ranks").glob("rank-*.json"))]

    def weights(self) -> dict[str, torch.Tensor]:
        last = list_checkpoints(self.directory / "run" / "checkpoints")[-1]
        state = torch.load(last, weights_only=True, map_location="cpu")["state_dict"]
        return {k: v for k, v in state.items() if k.startswith("model.")}

    def step_losses(self) -> list[float]:
        """train/loss per optimiser step: the logged batch losses, averaged over accumulated batches."""
        summary = self.ranks()[0]
        per_step = len(summary["losses"]) // len(summary["gradient_norms"])
        return [sum(summary["losses"][i * per_step:(i + 1) * per_step]) / per_step
                for i in range(len(summary["gradient_norms"]))]


def train(directory: Path, store: Path, layout: str, **overrides: Any) -> Run:
    folder = directory / layout
    folder.mkdir(parents=True)
    settings = {"training.epochs": 1, "training.max_steps": STEPS, "training.batch_size": 1,
                "outputs.checkpoint_every_steps": None, **MODEL, **LAYOUTS[layout], **overrides}
    plan_path = write_tiny_plan(folder, store, **settings)
    from anemoic.plan.io import read_plan, write_plan

    write_plan(with_missing_values(read_plan(plan_path)), plan_path)
    result = run_runtime("exec", str(plan_path), cwd=folder, timeout=600)
    assert result.returncode == 0, f"{layout}: {result.stderr[-4000:]}"
    return Run(layout, folder, result.stdout)


@dataclass(frozen=True)
class Differences:
    weights: float  # |w - w_ref| / |w_ref| over every weight of the model
    bitwise: bool
    losses: float  # largest relative difference of a step's training loss
    gradient_norms: float
    validation: float  # largest relative difference of a logged validation metric

    def within(self, tolerance: float) -> bool:
        return max(self.weights, self.losses, self.gradient_norms, self.validation) <= tolerance


def differences(run: Run, reference: Run) -> Differences:
    ours, theirs = run.weights(), reference.weights()
    squares = sum(float((ours[k].double() - theirs[k].double()).square().sum()) for k in theirs)
    norm = sum(float(theirs[k].double().square().sum()) for k in theirs)
    a, b = run.ranks()[0], reference.ranks()[0]
    return Differences(
        weights=math.sqrt(squares / norm),
        bitwise=all(torch.equal(ours[k], theirs[k]) for k in theirs),
        losses=_relative(run.step_losses(), reference.step_losses()),
        gradient_norms=_relative(a["gradient_norms"], b["gradient_norms"]),
        validation=_relative([a["validation"][k] for k in sorted(b["validation"])],
                             [b["validation"][k] for k in sorted(b["validation"])]),
    )


def _relative(values: list[float], reference: list[float]) -> float:
    assert len(values) == len(reference) and reference, (values, reference)
    return max(abs(x - y) / max(abs(y), 1e-30) for x, y in zip(values, reference))
