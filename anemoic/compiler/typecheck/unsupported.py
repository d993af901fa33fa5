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


TASKS = {
    "ensemble": NotYet("E1401", "ensemble training (`task ensemble`) is not executed by this runtime yet",
                       "train a deterministic forecaster with `task forecast(...)`"),
    "interpolate": NotYet("E1401", "temporal interpolation (`task interpolate`) is not executed by this runtime yet",
                          "train a forecaster with `task forecast(...)`"),
    "autoencode": NotYet("E1401", "autoencoder training (`task autoencode`) is not executed by this runtime yet",
                         "train a forecaster with `task forecast(...)`"),
}
TARGET_ROLE = NotYet("E1403", "loss-only `target` variables are not used by this runtime yet",
                     "list the variable as `diagnostic` to predict it, or remove it")
PARALLEL = {
    "ensemble_per_device": NotYet("E1407", "`ensemble_per_device` has no effect: this runtime does not train "
                                  "ensembles yet", "remove `ensemble_per_device`"),
}
METRICS = ("acc", "crps", "spread")  # words the language knows; the runtime scores kinds.METRICS


def refuse(ctx: Context, item: NotYet, span: Span) -> None:
    ctx.sink.error(item.code, item.message, span, hint=item.hint)


def metric(ctx: Context, name: str, span: Span) -> None:
    ctx.sink.error("E1409", f"the metric `{name}` is not computed by this runtime yet", span,
                   hint=f"choose from {', '.join(kinds.METRICS)}")
