"""Training methods: how a task is trained, apart from what it predicts (anemoi's training methods, PR #896).

``METHODS`` is the registry the runtime builds ``plan.task.method`` through, keyed by the vocabulary
(``anemoic.plan.kinds.MethodKind``); a new method is one module with a ``Method`` subclass and one entry.
"""

from anemoic.plan.kinds import MethodKind
from anemoic.plan.model import Plan
from anemoic.runtime.methods.base import Method, Stream, noise_generator
from anemoic.runtime.methods.deterministic import Deterministic
from anemoic.runtime.methods.ensemble import Ensemble

METHODS: dict[MethodKind, type[Method]] = {"deterministic": Deterministic, "ensemble": Ensemble}


def build_method(plan: Plan) -> Method:
    """The plan's method, through the registry ``METHODS``."""
    return METHODS[plan.task.method.kind].from_plan(plan)


__all__ = ["METHODS", "Deterministic", "Ensemble", "Method", "Stream", "build_method", "noise_generator"]
