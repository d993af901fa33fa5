"""The plan: the frozen contract between the compiler and the runtime.

Torch-free and quick to import: the model is plain dataclasses, and the I/O
helpers (which need jsonschema and cattrs) load on first use::

    from anemoic.plan import read_plan, write_plan, PlanError
"""

from __future__ import annotations

import importlib
from typing import Any

from anemoic.plan.errors import PlanError, PlanNote
from anemoic.plan.model import SCHEMA_VERSION, Plan

_LAZY = {
    "read_plan": "anemoic.plan.io",
    "read_plan_with_notes": "anemoic.plan.io",
    "write_plan": "anemoic.plan.io",
    "plan_hash": "anemoic.plan.canonical",
    "canonical_json": "anemoic.plan.canonical",
    "plan_to_dict": "anemoic.plan.convert",
    "plan_from_dict": "anemoic.plan.convert",
    "diff_plans": "anemoic.plan.diff",
    "Difference": "anemoic.plan.diff",
    "Impact": "anemoic.plan.diff",
}

__all__ = ["SCHEMA_VERSION", "Plan", "PlanError", "PlanNote", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'anemoic.plan' has no attribute {name!r}")
