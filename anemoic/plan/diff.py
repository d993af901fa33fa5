"""Resolved differences between two plans, each classed by what it means for a checkpoint.

``resumable``: the run can continue from the checkpoint as is (optimiser, LR,
schedule, epochs, outputs, tracking, parallel layout, site, data periods).
``warm-startable``: the weights still fit but training changes meaning, so
start a new run from the weights (new or removed output variables, loss and
scalers, rollout, task timing, another dataset of the same layout).
``incompatible``: the weights no longer fit (graph recipe, architecture,
input variables, normalisers).  Unknown fields are incompatible: being
careful costs a rebuild, being careless costs a silently wrong model.
The runtime's ``--resume`` uses ``worst_impact(diff_plans(old, new))``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from anemoic.plan.convert import plan_to_dict
from anemoic.plan.model import Plan
from anemoic.plan.paths import is_record_list, item_keys, source_of

IGNORED = ("source_map", "plan_hash", "estimates")


class Impact(str, enum.Enum):
    RESUMABLE = "resumable"
    WARM_STARTABLE = "warm-startable"
    INCOMPATIBLE = "incompatible"

    @property
    def rank(self) -> int:
        return list(Impact).index(self)


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()  # old/new value of a field or record present in only one plan


@dataclass(frozen=True)
class Difference:
    path: str
    old: Any
    new: Any
    impact: Impact
    source_a: str | None = None
    source_b: str | None = None


_VARIABLE = r"^variables\[[^\]]+\]"
_RULES: tuple[tuple[str, Impact], ...] = (
    (_VARIABLE + r"\.(bounding)$", Impact.WARM_STARTABLE),
    (_VARIABLE + r"\.(store_index)$", Impact.RESUMABLE),
    (_VARIABLE, Impact.INCOMPATIBLE),  # normaliser, remap, imputer, role, computed forcing, level
    (r"^indices\.(input|prognostic|forcing)$", Impact.INCOMPATIBLE),
    (r"^indices\.", Impact.WARM_STARTABLE),
    (r"^graph\b", Impact.INCOMPATIBLE),
    (r"^model\.(gradient_checkpointing|attention_backend|num_chunks)$", Impact.RESUMABLE),
    (r"^model\b", Impact.INCOMPATIBLE),
    (r"^task\.(multistep_input|kind)$", Impact.INCOMPATIBLE),
    (r"^task\.target_offsets$", Impact.INCOMPATIBLE),  # a downscaler's output projection has a row per target
    (r"^task\.method\.(kind|noise)\b", Impact.INCOMPATIBLE),  # the noise module's weights come and go
    # a limited-area model <-> a stretched grid: the same weights, another loss and rollout (not resumable)
    (r"^task\.output_mask$", Impact.WARM_STARTABLE),
    (r"^boundary\.forced$", Impact.WARM_STARTABLE),
    (r"^task\b", Impact.WARM_STARTABLE),
    (r"^loss\b", Impact.WARM_STARTABLE),
    (r"^dataset\.grid_size$", Impact.INCOMPATIBLE),
    (r"^dataset\.(train|validate|test)\b", Impact.RESUMABLE),
    (r"^dataset\b", Impact.WARM_STARTABLE),
    (r"^(training|parallel|outputs|site|sweep)\b", Impact.RESUMABLE),
    (r"^(name|seed)$", Impact.RESUMABLE),
)
_OUTPUT_ONLY_ROLES = ("diagnostic",)


def impact_of(path: str, old: Any = None, new: Any = None) -> Impact:
    """The impact class of a change at ``path`` (a whole added/removed variable is judged by its role)."""
    if re.fullmatch(_VARIABLE, path):
        record = new if old is ABSENT else old if new is ABSENT else None
        if isinstance(record, dict) and record.get("role") in _OUTPUT_ONLY_ROLES:
            return Impact.WARM_STARTABLE
        return Impact.INCOMPATIBLE
    for pattern, impact in _RULES:
        if re.search(pattern, path):
            return impact
    return Impact.INCOMPATIBLE


def _diff(a: Any, b: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(a, dict) and isinstance(b, dict) and (a or b):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else key
            if not path and key in IGNORED:
                continue
            _diff(a.get(key, ABSENT), b.get(key, ABSENT), sub, out)
    elif is_record_list(a) and is_record_list(b) and _named(a) and _named(b):
        items_a, items_b = dict(zip(item_keys(a), a)), dict(zip(item_keys(b), b))
        for key in [*items_a, *(k for k in items_b if k not in items_a)]:
            _diff(items_a.get(key, ABSENT), items_b.get(key, ABSENT), f"{path}[{key}]", out)
        if [k for k in items_a if k in items_b] != [k for k in items_b if k in items_a]:
            out.append((f"{path}(order)", list(items_a), list(items_b)))
    elif is_record_list(a) and is_record_list(b) and len(a) == len(b):
        for index, (item_a, item_b) in enumerate(zip(a, b)):
            _diff(item_a, item_b, f"{path}[{index}]", out)
    elif a != b or type(a) is not type(b):
        out.append((path, a, b))


def _named(items: list[dict[str, Any]]) -> bool:
    return item_keys(items) != [str(i) for i in range(len(items))]


def diff_dicts(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """Differences between two plan dicts (``plan_to_dict`` form), ordered by path."""
    raw: list[tuple[str, Any, Any]] = []
    _diff(a, b, "", raw)
    map_a, map_b = a.get("source_map") or {}, b.get("source_map") or {}
    return [
        Difference(path=path, old=old, new=new,
                   impact=impact_of(path.removesuffix("(order)"), old, new),
                   source_a=source_of(map_a, path.removesuffix("(order)")),
                   source_b=source_of(map_b, path.removesuffix("(order)")))
        for path, old, new in raw
    ]


def diff_plans(a: Plan, b: Plan) -> list[Difference]:
    """What changes from plan ``a`` to plan ``b``, each with its impact and both source locations."""
    return diff_dicts(plan_to_dict(a), plan_to_dict(b))


def worst_impact(differences: list[Difference]) -> Impact | None:
    """The most severe impact among ``differences`` (None when the plans are the same)."""
    if not differences:
        return None
    return max((d.impact for d in differences), key=lambda impact: impact.rank)
