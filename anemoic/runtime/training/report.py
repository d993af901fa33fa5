"""The end-of-run report: RMSE per variable and lead time next to persistence and climatology.

Used by ``anemoi-runtime exec`` after training (validation samples) and by
``anemoi-runtime evaluate`` (a written forecast).  Ratios are model / baseline,
so a number below 1 means the model beats that baseline.  An ensemble gets a second
table: its CRPS next to the baselines' (a single state's CRPS is its absolute error),
with the spread/skill ratio.
"""

from __future__ import annotations

import math

from anemoic.plan.kinds import MetricKind
from anemoic.plan.units import format_duration
from anemoic.runtime.training.scores import ScoreSums

ENSEMBLE_REPORT: tuple[MetricKind, ...] = ("rmse", "crps", "spread_skill")
"""The metrics an ensemble's report scores: ensemble-mean RMSE, CRPS, and the spread/skill ratio."""
SHORT = {"linear": "lin.", "bilinear": "bilin."}  # a baseline's name in the ratio columns (else its first 4 letters)
HEADLINES = {
    "rmse": "RMSE in physical units; ratio = model / baseline (below 1: the model is better)",
    "crps": "CRPS in physical units (a single state's CRPS is its absolute error, so the baselines' is their MAE); "
            "ratio = model / baseline (below 1: the model is better); spread/skill near 1: a reliable ensemble",
}


def format_lead(seconds: int) -> str:
    """``+6h``, ``+1d``, ``+1mo``: a lead time as the language writes durations; ``+0`` for the same time (a
    spatial downscaler's target)."""
    return "+" + format_duration(seconds) if seconds else "+0"


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
                  leads: tuple[int, ...] | None = None, metric: MetricKind = "rmse",
                  offsets: tuple[int, ...] | None = None) -> str:
    """A fixed-width table of ``metric`` (``rmse`` or ``crps``), one row per (variable, lead), and a one-line
    verdict; the CRPS table adds the model's spread/skill ratio when it was scored.  ``offsets``: each lead's
    time in timesteps (default 1, 2, ...; a downscaler's targets lie between its inputs)."""
    offsets = offsets or tuple(range(1, scores.leads + 1))
    kinds = scores.kinds()
    values = {kind: scores.score(kind, metric) for kind in kinds}
    spread_skill = scores.score("model", "spread_skill") if metric == "crps" and "spread_skill" in scores.metrics \
        else None
    shown_leads = leads if leads is not None else tuple(range(scores.leads))
    header = ["variable", "lead", "model"] + [k for k in kinds if k != "model"]
    header += [f"vs {SHORT.get(k, k[:4] + '.')}" for k in kinds if k != "model"]
    header += ["spread/skill"] if spread_skill is not None else []
    rows: list[list[str]] = []
    beats = {k: 0 for k in kinds if k != "model"}
    compared = 0
    for v, name in enumerate(variables):
        for lead in shown_leads:
            model = float(values["model"][lead, v])
            row = [name, format_lead(timestep_s * offsets[lead]), _number(model)]
            baselines = [k for k in kinds if k != "model"]
            row += [_number(float(values[k][lead, v])) for k in baselines]
            row += [_ratio(model, float(values[k][lead, v])) for k in baselines]
            row += [_number(float(spread_skill[lead, v]))] if spread_skill is not None else []
            rows.append(row)
            compared += 1
            for k in baselines:
                beats[k] += int(model < float(values[k][lead, v]))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [title, HEADLINES[metric], "",
           line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    verdict = "; ".join(f"beats {k} on {n}/{compared}" for k, n in beats.items())
    out += ["", f"model {verdict} (variable, lead) pairs" if verdict else "no baselines were computed"]
    return "\n".join(out) + "\n"


def format_reconstruction(scores: ScoreSums, variables: tuple[str, ...], stdev: tuple[float, ...], *,
                          title: str) -> str:
    """An autoencoder's report: per variable, the reconstruction's RMSE next to the variable's standard deviation
    (in the store's statistics) and climatology's RMSE; no lead times, no persistence (it would be the truth)."""
    model, climatology = scores.score("model", "rmse"), scores.score("climatology", "rmse") \
        if "climatology" in scores.kinds() else None
    header = ["variable", "rmse", "stdev", "rmse/stdev"] + (["climatology", "vs clim."] if climatology is not None
                                                          else [])
    rows = []
    for v, name in enumerate(variables):
        rmse = float(model[0, v])
        row = [name, _number(rmse), _number(stdev[v]), _ratio(rmse, stdev[v])]
        if climatology is not None:
            row += [_number(float(climatology[0, v])), _ratio(rmse, float(climatology[0, v]))]
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in [header, ["-" * w for w in widths], *rows]]
    return "\n".join([title, "reconstruction RMSE in physical units; rmse/stdev: of the variable's standard "
                      "deviation (below 1: better than its mean)", "", *lines]) + "\n"
