"""Where ``anemoic build`` puts things: one plan at ``DIR/plan.json``, a sweep at ``DIR/<member>/plan.json``."""

from __future__ import annotations

from pathlib import Path


def plan_paths(out_dir: Path, members: int) -> list[Path]:
    """Paths of the plan files for ``members`` plans (1 = not a sweep)."""
    if members == 1:
        return [out_dir / "plan.json"]
    return [out_dir / str(index) / "plan.json" for index in range(members)]


def plan_note(hashes: list[str]) -> str:
    """The comment line naming the plan(s) a script runs."""
    if len(hashes) == 1:
        return f"plan_hash {hashes[0]}"
    return f"sweep of {len(hashes)} plans: " + " ".join(h[:12] for h in hashes)
