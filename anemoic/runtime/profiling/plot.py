"""The profile's figure: one stacked bar per data mode, seconds per step split by phase (Agg, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anemoic.runtime.profiling.report import LABELS
from anemoic.runtime.profiling.steps import PHASES


def phase_chart(modes: list[Any], path: Path) -> None:
    """Write the bars of ``modes`` (``ModeTimes``) to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(9, 2.4 + 0.5 * len(modes)))
    colours = plt.get_cmap("tab20").colors
    rows = [f"{m.mode} data" for m in modes]
    left = [0.0] * len(modes)
    for index, name in enumerate(PHASES):
        widths = [m.phases[name] for m in modes]
        ax.barh(rows, widths, left=left, color=colours[index % len(colours)], label=LABELS[name])
        left = [a + b for a, b in zip(left, widths)]
    ax.set_xlabel("seconds per training step")
    ax.invert_yaxis()
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, frameon=False)
    ax.set_title("Time per step by phase")
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
