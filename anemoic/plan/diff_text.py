"""The text people read about plan differences (``anemoic diff``, the runtime's ``--resume`` refusal)."""

from __future__ import annotations

import json
from typing import Any

from anemoic.plan.diff import ABSENT, Difference, Impact, worst_impact

_MAX_VALUE = 60
_ADVICE = {
    Impact.RESUMABLE: "the run can resume from the checkpoint",
    Impact.WARM_STARTABLE: "start a new run from the checkpoint's weights (warm start)",
    Impact.INCOMPATIBLE: "the checkpoint's weights do not fit: train from scratch",
}


def format_value(value: Any) -> str:
    """Compact JSON, shortened in the middle of long values so both ends stay visible."""
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, list) and len(value) > 6:
        head = ", ".join(format_value(item) for item in value[:3])
        return f"[{head}, … ({len(value)} values)]"
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    if len(text) > _MAX_VALUE:
        text = text[: _MAX_VALUE - 16] + " … " + text[-13:]
    return text


def format_change(diff: Difference) -> str:
    """``old -> new``; for lists of names, what was added and removed (or that the order changed)."""
    old, new = diff.old, diff.new
    if diff.path.endswith("(order)"):
        return f"order {format_value(old)} -> {format_value(new)}"
    if _is_name_list(old) and _is_name_list(new):
        added = [n for n in new if n not in old]
        removed = [n for n in old if n not in new]
        if added or removed:
            return " ".join([*(f"+{n}" for n in added), *(f"-{n}" for n in removed)])
        return f"order {format_value(old)} -> {format_value(new)}"
    if old is ABSENT:
        return f"added {_describe_record(new)}"
    if new is ABSENT:
        return f"removed {_describe_record(old)}"
    return f"{format_value(old)} -> {format_value(new)}"


def _describe_record(value: Any) -> str:
    if isinstance(value, dict) and "role" in value:
        return f"({value['role']} variable)"
    return format_value(value)


def _is_name_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def render_differences(differences: list[Difference], label_a: str, label_b: str) -> str:
    """Grouped by impact, most severe first; every line says where each side set the value."""
    if not differences:
        return f"no differences: {label_a} and {label_b} resolve to the same plan\n"
    worst = worst_impact(differences)
    assert worst is not None
    count = len(differences)
    lines = [f"{count} difference{'s' if count != 1 else ''} between {label_a} and {label_b}; "
             f"worst: {worst.value} ({_ADVICE[worst]})"]
    for impact in sorted(Impact, key=lambda i: -i.rank):
        group = [d for d in differences if d.impact is impact]
        if not group:
            continue
        lines.append("")
        lines.append(f"{impact.value}:")
        for diff in group:
            lines.append(f"  {diff.path}: {format_change(diff)}")
            sources = _sources(diff)
            if sources:
                lines.append(f"      {sources}")
    return "\n".join(lines) + "\n"


def _sources(diff: Difference) -> str:
    a, b = diff.source_a, diff.source_b
    if a is None and b is None:
        return ""
    if a == b:
        return f"set at {a}"
    return f"{a or '(no source)'}  vs  {b or '(no source)'}"
