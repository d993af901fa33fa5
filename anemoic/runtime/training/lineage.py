"""What a checkpoint records about where it came from: plan, plan hash, dataset, code, parent.

Stored as plain strings under ``checkpoint["anemoic"]`` (weights_only-safe), so
``predict`` can rebuild the exact model and ``--resume`` can compare plans
without the original ``plan.json``.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import lightning
import torch

import anemoic
from anemoic.plan.canonical import canonical_json, plan_hash
from anemoic.plan.convert import plan_from_dict
from anemoic.plan.model import Plan
from anemoic.runtime.errors import RuntimeUserError

LINEAGE_FORMAT = 1


def make_lineage(plan: Plan, dataset_fingerprint: str, parent: str | None = None) -> dict[str, Any]:
    return {
        "format": LINEAGE_FORMAT,
        "plan_json": canonical_json(plan),
        "plan_hash": plan_hash(plan),
        "dataset_fingerprint": dataset_fingerprint,
        "code_version": anemoic.__version__,
        "torch_version": torch.__version__,
        "lightning_version": lightning.__version__,
        "parent": parent,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def lineage_of(checkpoint: dict[str, Any], where: str) -> dict[str, Any]:
    lineage = checkpoint.get("anemoic")
    if not isinstance(lineage, dict) or "plan_json" not in lineage:
        raise RuntimeUserError(f"error: {where} has no anemoic lineage record; it was not written by anemoi-runtime")
    return lineage


def plan_of(checkpoint: dict[str, Any], where: str) -> Plan:
    """The plan a checkpoint was trained from."""
    lineage = lineage_of(checkpoint, where)
    try:
        return plan_from_dict(json.loads(lineage["plan_json"]))
    except Exception as exc:  # an older/newer plan format: a clear refusal, not a traceback
        raise RuntimeUserError(f"error: the plan stored in {where} cannot be read by this anemoic "
                               f"{anemoic.__version__} ({type(exc).__name__}: {exc})") from None
