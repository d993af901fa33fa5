"""The words of the language in one place, for the tools that list them (`anemoic doc`, the language
server's completion): declaration keywords, each block's settings and the components.

Nothing is declared here: the keywords come from the grammar, the settings from the checkers'
tables, the components from ``builtins.REGISTRY``; this module only gathers them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from anemoic.compiler.builtins import REGISTRY, Builtin
from anemoic.compiler.typecheck import dataset, run_settings, task, training, variables
from anemoic.grammar import GRAMMAR_PATH

BLOCK_SETTINGS: dict[str, tuple[str, ...]] = {
    "dataset": dataset.SETTINGS,
    "variables": variables.SETTINGS,
    "task": task.SETTINGS,
    "train": training.SETTINGS,
    "parallel": run_settings.PARALLEL,
    "site": run_settings.SITE,
    "outputs": run_settings.OUTPUTS,
    "tracking": run_settings.TRACKING,
}
"""Block keyword -> every setting it accepts, in the order the checker lists them."""

SETTING_FIELDS: dict[str, dict[str, str]] = {
    "task": {s.key: s.path for s in task.TABLE},
    "train": {s.key: s.path for s in training.TABLE},
    "parallel": {s.key: s.path for s in run_settings.PARALLEL_TABLE},
    "site": {s.key: s.path for s in run_settings.SITE_TABLE},
    "outputs": {s.key: s.path for s in run_settings.OUTPUTS_TABLE},
    "tracking": {s.key: s.path for s in run_settings.TRACKING_TABLE},
}
"""Block keyword -> setting -> the plan field it sets, for the settings read from a table."""


@lru_cache(maxsize=1)
def keywords() -> tuple[str, ...]:
    """Every keyword the grammar defines (``IMPORT: "import"`` ... and the quoted words of its rules)."""
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    words = re.findall(r'^[A-Z_]+: "([a-z]+)"', text, flags=re.M)
    words += re.findall(r'"([a-z]+)"', text)
    return tuple(sorted(set(words)))


def components(category: str | None = None) -> list[Builtin]:
    """The callable components, by name; only those of ``category`` when given."""
    return sorted((b for b in REGISTRY.values() if category is None or b.category == category),
                  key=lambda b: b.name)
