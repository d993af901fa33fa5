"""Looking a kind up in one of the runtime's tables, which are keyed by the vocabulary (``anemoic.plan.kinds``).

``read_plan`` refuses a kind the schema does not know, so a miss here means a plan built by hand (tests,
benchmarks): say what is known rather than raise a bare ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def pick(table: Mapping[str, T], kind: object, what: str) -> T:
    """``table[kind]``; a ValueError naming the known kinds when it has none."""
    if not isinstance(kind, str) or kind not in table:
        raise ValueError(f"unknown {what} {kind!r}; choose one of {', '.join(table)}")
    return table[kind]
