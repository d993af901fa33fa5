"""What the language names but the runtime does not execute yet, refused at check time.

Every plan that builds must run: a setting the runtime cannot honour, or one that would have no
effect, is a compile-time error with a code of its own and a hint saying what to write instead,
never a refusal minutes into a job on the cluster.  When the runtime learns a feature, its entry
here goes away and the vocabulary (``anemoic.plan.kinds``) gains the kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.context import Context
from anemoic.plan import kinds


@dataclass(frozen=True)
class NotYet:
    code: str
    message: str
    hint: str


# The task x method grid (docs/language.md §8): every task word with every method word is designed; the
# runtime executes `forecast`, `temporal_downscale` and `autoencode`, each with `deterministic`, and `forecast` and
# `temporal_downscale` with `ensemble`.  A task it does not train (none at present: E1401) is refused whatever the
# method, a method it does not execute whatever the task: each at its word (an ensemble autoencoder: E1415, at
# the method).
TASKS: dict[str, NotYet] = {}
METHODS = {
    "diffusion": NotYet("E1410", "diffusion training (`method = diffusion(...)`) is not executed by this runtime yet",
                        "for a probabilistic forecast train an ensemble: `method = ensemble(members = 4)` with a "
                        "CRPS loss"),
}
ENSEMBLE_AUTOENCODER = NotYet("E1415", "an ensemble autoencoder (`task autoencode` with `method = ensemble(...)`) is "
                              "not executed by this runtime yet", "train the autoencoder with `method = deterministic`")
FORMER_TASKS = {  # task words of earlier anemoic versions -> what to write now
    "ensemble": "an ensemble is a training method, not a task: write `task forecast(net) { method = "
                "ensemble(members = 4) }`",
    "interpolate": "temporal interpolation is the task `temporal_downscale` (anemoi's TemporalDownscaler)",
}
TARGET_ROLE = NotYet("E1403", "loss-only `target` variables are not used by this runtime yet",
                     "list the variable as `diagnostic` to predict it, or remove it")
METRICS = ("acc",)  # words the language knows; the runtime scores kinds.METRICS


def refuse(ctx: Context, item: NotYet, span: Span) -> None:
    ctx.sink.error(item.code, item.message, span, hint=item.hint)


def metric(ctx: Context, name: str, span: Span) -> None:
    ctx.sink.error("E1409", f"the metric `{name}` is not computed by this runtime yet", span,
                   hint=f"choose from {', '.join(kinds.METRICS)}")
