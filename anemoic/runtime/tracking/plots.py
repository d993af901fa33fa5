"""Figures for the tracking server: predicted vs target fields, and error by lead time.

matplotlib with the Agg backend (no display on a cluster node); each function
returns a Figure that the caller logs and closes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def field_maps(latitudes: np.ndarray, longitudes: np.ndarray, target: np.ndarray, prediction: np.ndarray,
               names: tuple[str, ...], title: str) -> Any:
    """One row per variable: target, prediction, prediction - target, as scatter maps of the grid points."""
    plt = _pyplot()
    rows = len(names)
    figure, axes = plt.subplots(rows, 3, figsize=(12, 2.8 * rows), squeeze=False)
    lon = ((np.asarray(longitudes) + 180.0) % 360.0) - 180.0
    for row, name in enumerate(names):
        low = float(np.nanmin([target[:, row].min(), prediction[:, row].min()]))
        high = float(np.nanmax([target[:, row].max(), prediction[:, row].max()]))
        error = prediction[:, row] - target[:, row]
        bound = float(np.nanmax(np.abs(error))) or 1.0
        panels = ((target[:, row], "target", "viridis", low, high),
                  (prediction[:, row], "prediction", "viridis", low, high),
                  (error, "prediction - target", "RdBu_r", -bound, bound))
        for col, (values, label, cmap, vmin, vmax) in enumerate(panels):
            ax = axes[row, col]
            image = ax.scatter(lon, latitudes, c=values, s=4, cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_title(f"{name}: {label}", fontsize=9)
            ax.set_xlim(-180, 180)
            ax.set_ylim(-90, 90)
            figure.colorbar(image, ax=ax, shrink=0.8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def error_by_lead(rmse: np.ndarray, names: tuple[str, ...], lead_labels: list[str], title: str) -> Any:
    """RMSE ``(R, V)`` normalised by each variable's first-lead error, one line per variable."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7, 4))
    first = np.where(rmse[0] > 0, rmse[0], 1.0)
    for v, name in enumerate(names):
        ax.plot(range(len(lead_labels)), rmse[:, v] / first[v], marker="o", label=name)
    ax.set_xticks(range(len(lead_labels)), lead_labels)
    ax.set_xlabel("lead time")
    ax.set_ylabel("RMSE / RMSE at first lead")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    return figure
