"""The plan as MLflow params: one ``path -> value`` per leaf, values as short strings.

MLflow caps a param value at 6000 characters; long lists (variable names,
scaler weights) are truncated with a marker rather than failing the run.
"""

from __future__ import annotations

import json
from typing import Any

from anemoic.plan.convert import plan_to_dict
from anemoic.plan.model import Plan
from anemoic.plan.paths import flatten

MAX_VALUE_CHARS = 500


def _as_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def plan_params(plan: Plan) -> dict[str, str]:
    """Flattened plan fields (source map excluded) as MLflow-safe strings."""
    return {path.replace("[", ".").replace("]", ""): _as_text(value)
            for path, value in flatten(plan_to_dict(plan)).items()}
