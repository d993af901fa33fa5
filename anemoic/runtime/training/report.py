"""The end-of-run report: RMSE per variable and lead time next to persistence and climatology.

Used by ``anemoi-runtime exec`` after training (validation samples) and by
``anemoi-runtime evaluate`` (a written forecast).  Ratios are model / baseline,
so a number below 1 means the model beats that baseline.
"""

from __future__ import annotations

import math

from anemoic.plan.units import format_duration
from anemoic.runtime.training.scores import ScoreSums


def format_lead(seconds: int) -> str:
    """``+6h``, ``+1d``, ``+1mo``: a lead time as the language writes durations."""
    return "+" + format_duration(seconds)


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


def _ratio(model: float, baseline: float) -> str:
    if math.isnan(model) or math.isnan(baseline) or baseline == 0:
        return "n/a"
    ratio = model / baseline
    return f"{ratio:.2f}" if 0.01 <= ratio < 1000 else f"{ratio:.1e}"


def format_report(scores: ScoreSums, variables: tuple[str, ...], timestep_s: int, *, title: str,
                  leads: tuple[int, ...] | None = None) -> str:
    """A fixed-width table, one row per (variable, lead), and a one-line verdict."""
    kinds = scores.kinds()
    rmse = {kind: scores.rmse(kind) for kind in kinds}
    shown_leads = leads if leads is not None else tuple(range(scores.leads))
    header = ["variable", "lead", "model"] + [k for k in kinds if k != "model"]
    header += [f"vs {k[:4]}." for k in kinds if k != "model"]
    rows: list[list[str]] = []
    beats = {k: 0 for k in kinds if k != "model"}
    compared = 0
    for v, name in enumerate(variables):
        for lead in shown_leads:
            model = float(rmse["model"][lead, v])
            row = [name, format_lead(timestep_s * (lead + 1)), _number(model)]
            baselines = [k for k in kinds if k != "model"]
            row += [_number(float(rmse[k][lead, v])) for k in baselines]
            row += [_ratio(model, float(rmse[k][lead, v])) for k in baselines]
            rows.append(row)
            compared += 1
            for k in baselines:
                beats[k] += int(model < float(rmse[k][lead, v]))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [title, "RMSE in physical units; ratio = model / baseline (below 1: the model is better)", "",
           line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    verdict = "; ".join(f"beats {k} on {n}/{compared}" for k, n in beats.items())
    out += ["", f"model {verdict} (variable, lead) pairs" if verdict else "no baselines were computed"]
    return "\n".join(out) + "\n"
