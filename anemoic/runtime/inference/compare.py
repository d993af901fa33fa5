"""``anemoi-runtime compare RUN RUN...``: trained runs scored on the same validation samples, side by side.

Each run's checkpoint (EMA weights preferred) forecasts every validation sample; the table gives, per
variable and lead, each run's CRPS (an ensemble's fair CRPS; a single state's CRPS is its absolute
error, so a deterministic run's is its MAE), the RMSE of its (ensemble-mean) state and an ensemble's
spread/skill ratio, then persistence and climatology on the same samples, all with the first run's
area weights.  So a deterministic
forecaster and an ensemble are compared by the one score that means the same for both.
"""

from __future__ import annotations

import math
import numpy as np

from anemoic.plan.model import Plan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.loading import load_trained
from anemoic.runtime.training.evaluation import build_climatology, validation_scores
from anemoic.runtime.training.report import format_lead
from anemoic.runtime.training.scores import ScoreSums

METRICS = ("rmse", "crps", "spread_skill")


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.4g}"


def _scored(plan: Plan) -> tuple[object, ...]:
    """Which points a run scores: a stretched grid's both datasets (its outer store and margin), else its store's
    (a limited-area model's region is the region store's points, comparable with a run on the region alone)."""
    if plan.boundary is not None and not plan.boundary.forced:
        return ("stretched", plan.boundary.dataset.fingerprint, plan.boundary.margin_km)
    return ("store",)


def _same_samples(first: object, other: object, name: str) -> None:
    """Runs are comparable when they verify the same states: store, variables, timestep and sample times."""
    a, b = first.plan, other.plan  # type: ignore[attr-defined]
    checks = {
        "store": (a.dataset.fingerprint, b.dataset.fingerprint),
        "timestep": (a.task.timestep_s, b.task.timestep_s),
        "task (a forecaster's leads or a downscaler's targets)": ((a.task.kind, a.task.input_offsets,
                                                                   a.task.target_offsets),
                                                                  (b.task.kind, b.task.input_offsets,
                                                                   b.task.target_offsets)),
        "output variables": (a.indices.output, b.indices.output),
        "scored points (a stretched grid's both datasets, or the store's)": (_scored(a), _scored(b)),
        "validation samples": (first.starts, other.starts),  # type: ignore[attr-defined]
    }
    for what, (mine, theirs) in checks.items():
        same = np.array_equal(mine, theirs) if isinstance(mine, np.ndarray) else mine == theirs
        if not same:
            raise RuntimeUserError(f"error: {name} differs from the first run in its {what}, so the scores "
                                   "would not be comparable\nhint: compare runs of the same store, output variables, "
                                   "timestep, input steps and validation rollout")


class _Run:
    def __init__(self, path: str) -> None:
        self.module, self.parts, self.checkpoint, _ = load_trained(path)
        self.plan = self.module.plan
        dataset = self.parts.data.dataset("validate")
        self.starts = np.stack([dataset.dates(i)[0] for i in range(len(dataset))]) if len(dataset) else np.array([])


def compare(runs: list[str], leads: int = 2) -> str:
    """The comparison table of ``runs`` (run directories or checkpoints) at their first ``leads`` leads."""
    loaded = [_Run(path) for path in runs]
    first = loaded[0]
    for path, run in zip(runs[1:], loaded[1:]):
        _same_samples(first, run, path)
    climatology = build_climatology(first.parts.data)
    scored: list[tuple[str, ScoreSums]] = []
    for path, run in zip(runs, loaded):
        # one weighting for all: a limited-area model's region cells (cut from its combined grid) are not the
        # same run's region alone would give, and different weights would make the scores incomparable
        run.module.node_weights = first.module.node_weights.to(run.module.node_weights)
        scores = validation_scores(run.module, run.parts.data, climatology, run.plan.training.batch_size,
                                   metrics=METRICS)  # type: ignore[arg-type]
        name = run.plan.name if [r.plan.name for r in loaded].count(run.plan.name) == 1 else path
        scored.append((name, scores))
    variables, timestep = first.plan.indices.output, first.plan.task.timestep_s
    shown = range(min(leads, min(s.leads for _, s in scored)))
    header = ["variable", "lead", "forecast", "members", "CRPS", "RMSE", "spread/skill"]
    forecasts = [(label, scores, "model") for label, scores in scored]
    forecasts += [(kind, scored[0][1], kind) for kind in scored[0][1].kinds() if kind != "model"]  # the baselines
    offsets = first.module.task.lead_offsets(max(shown, default=0) + 1)
    rows = []
    for v, name in enumerate(variables):
        for lead in shown:
            for index, (label, scores, kind) in enumerate(forecasts):
                members = scores.members[kind]
                spread = float(scores.score(kind, "spread_skill")[lead, v]) if members > 1 else float("nan")
                rows.append([name if index == 0 else "", format_lead(timestep * offsets[lead]) if index == 0 else "",
                             label, str(members), _number(float(scores.score(kind, "crps")[lead, v])),
                             _number(float(scores.score(kind, "rmse")[lead, v])), _number(spread)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    plan = first.plan
    out = [f"{len(runs)} runs on the same {scored[0][1].samples} validation samples "
           f"({plan.dataset.validate.start} to {plan.dataset.validate.end}), physical units",
           "CRPS: an ensemble's fair CRPS; a single state's CRPS is its absolute error (for a deterministic run, "
           "its MAE). RMSE: of the ensemble mean. spread/skill: 1 for a reliable ensemble.", "",
           line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    return "\n".join(out) + "\n"


def compare_command(runs: list[str], *, leads: int = 2) -> int:
    print(compare(runs, leads), end="")
    return 0
