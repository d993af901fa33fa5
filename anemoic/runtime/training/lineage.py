"""What a checkpoint records about where it came from: plan, plan hash, dataset, code, parent.

Stored as plain strings under ``checkpoint["anemoic"]`` (weights_only-safe), so
``predict`` can rebuild the exact model and ``--resume`` can compare plans
without the original ``plan.json``.  ``format`` is the training checkpoint format version:
a newer one is refused with the anemoic to install; the stored plan is read like a
``plan.json`` (an older plan schema converted by ``anemoic.plan.migrate``, and said so).
"""

from __future__ import annotations

import datetime
import json
import sys
from typing import Any

import lightning
import torch

import anemoic
from anemoic.plan.canonical import canonical_json, plan_hash
from anemoic.plan.errors import PlanError
from anemoic.plan.io import plan_from_file_dict
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
    check_format(lineage.get("format"), LINEAGE_FORMAT, "training checkpoint", where, lineage.get("code_version"))
    return lineage


def check_format(found: Any, current: int, what: str, where: str, written_by: Any) -> None:
    """Refuse a format this anemoic cannot read, saying exactly what to install (a newer one can only be
    read by a newer anemoic; no earlier format exists yet, so there is no migration to run)."""
    if isinstance(found, int) and not isinstance(found, bool) and found == current:
        return
    if isinstance(found, int) and not isinstance(found, bool) and found > current:
        known = isinstance(written_by, str) and written_by
        hint = f"pip install 'anemoic>={written_by}'" if known else f"install an anemoic newer than {anemoic.__version__}"
        raise RuntimeUserError(
            f"error: {where} is a {what} of format {found}, written by anemoic {written_by or '(unknown)'}; this "
            f"anemoic {anemoic.__version__} reads format {current}\nhint: {hint}")
    raise RuntimeUserError(f"error: {where} records {what} format {json.dumps(found)}, which no anemoic wrote "
                           f"(this one writes format {current}); the file is damaged or was edited")


def plan_of(checkpoint: dict[str, Any], where: str) -> Plan:
    """The plan a checkpoint was trained from, read like a ``plan.json``: an older schema is converted
    (and a note printed on stderr), a hand edit refused."""
    lineage = lineage_of(checkpoint, where)
    label = f"the plan stored in {where}"
    try:
        plan, notes = plan_from_file_dict(json.loads(lineage["plan_json"]), label)
    except PlanError as exc:
        raise RuntimeUserError(f"error: {exc}") from None
    except Exception as exc:  # not JSON at all, or a newer plan format: a clear refusal, not a traceback
        raise RuntimeUserError(f"error: {label} cannot be read by this anemoic "
                               f"{anemoic.__version__} ({type(exc).__name__}: {exc})") from None
    for note in notes:
        print(note, file=sys.stderr)
    return plan
