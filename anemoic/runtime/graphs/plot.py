"""The picture of ``anemoic graph plot``: nodes and a sample of each edge set on a lon/lat map (PNG)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from anemoic.runtime.graphs.arrays import EDGE_SETS, GraphArrays

_COLOURS = {"data": "#9a9a9a", "hidden": "#1f5fbf"}


def plot_graph(arrays: GraphArrays, output: str | os.PathLike, max_edges: int = 2000, title: str = "") -> Path:
    """Draw three panels (encoder, processor, decoder) and write them atomically to ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.collections import LineCollection

    figure, axes = plt.subplots(3, 1, figsize=(10, 15), constrained_layout=True)
    rng = np.random.default_rng(0)
    for axis, (name, (src_type, dst_type)) in zip(axes, EDGE_SETS.items()):
        src_deg, dst_deg = _degrees(arrays, src_type), _degrees(arrays, dst_type)
        index = arrays.edges[name].edge_index
        chosen = np.sort(rng.choice(index.shape[1], size=min(max_edges, index.shape[1]), replace=False))
        start, end = src_deg[index[0, chosen]], dst_deg[index[1, chosen]]
        span = np.abs(end[:, 0] - start[:, 0]) < 180.0  # an edge across the date line would span the map
        segments = np.stack([start[span], end[span]], axis=1)
        axis.add_collection(LineCollection(segments, linewidths=0.4, colors="#d95f02", alpha=0.6))
        for node_type in dict.fromkeys((src_type, dst_type)):
            points = _degrees(arrays, node_type)
            size = 0.5 if node_type == "data" else 8.0
            axis.scatter(points[:, 0], points[:, 1], s=size, c=_COLOURS[node_type], label=node_type,
                         linewidths=0, zorder=3)
        axis.set_xlim(-180, 180)
        axis.set_ylim(-90, 90)
        axis.set_aspect("equal")
        axis.set_xlabel("longitude (deg)")
        axis.set_ylabel("latitude (deg)")
        axis.set_title(f"{name}: {src_type} -> {dst_type}, {index.shape[1]:,} edges "
                       f"({len(chosen):,} drawn)")
        axis.legend(loc="lower left", markerscale=6, fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, Path(output))


def _degrees(arrays: GraphArrays, node_type: str) -> np.ndarray:
    """(N, 2) [longitude in [-180, 180), latitude] in degrees."""
    x = np.degrees((arrays.data_x if node_type == "data" else arrays.hidden_x).astype(np.float64))
    return np.stack([(x[:, 1] + 180.0) % 360.0 - 180.0, x[:, 0]], axis=1)


def _save(figure: object, output: Path) -> Path:
    from matplotlib import pyplot as plt

    output.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".png", dir=output.parent)
    os.close(handle)
    try:
        figure.savefig(temporary, format="png", dpi=110)
        os.replace(temporary, output)
    finally:
        plt.close(figure)
        Path(temporary).unlink(missing_ok=True)
    return output
