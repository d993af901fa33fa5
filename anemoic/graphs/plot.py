"""The picture of ``anemoic graph plot``: nodes and a sample of each edge set on a lon/lat map (PNG); on a
limited-area model's cut-out grid the data nodes are coloured by dataset (region, boundary)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from anemoic.graphs.arrays import EDGE_SETS, GraphArrays
from anemoic.graphs.cutout import GridSources

_COLOURS = {"data": "#9a9a9a", "hidden": "#1f5fbf", "region": "#1b9e77", "boundary": "#7570b3"}


def plot_graph(arrays: GraphArrays, output: str | os.PathLike, max_edges: int = 2000, title: str = "",
               sources: GridSources | None = None) -> Path:
    """Draw three panels (encoder, processor, decoder) and write them atomically to ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.collections import LineCollection

    figure, axes = plt.subplots(3, 1, figsize=(10, 15), constrained_layout=True)
    rng = np.random.default_rng(0)
    centre = _central_longitude(arrays)
    limits = _limits(np.concatenate([_degrees(arrays, "data", centre), _degrees(arrays, "hidden", centre)]))
    for axis, (name, (src_type, dst_type)) in zip(axes, EDGE_SETS.items()):
        src_deg, dst_deg = _degrees(arrays, src_type, centre), _degrees(arrays, dst_type, centre)
        index = arrays.edges[name].edge_index
        chosen = np.sort(rng.choice(index.shape[1], size=min(max_edges, index.shape[1]), replace=False))
        start, end = src_deg[index[0, chosen]], dst_deg[index[1, chosen]]
        span = np.abs(end[:, 0] - start[:, 0]) < 180.0  # an edge across the date line would span the map
        segments = np.stack([start[span], end[span]], axis=1)
        axis.add_collection(LineCollection(segments, linewidths=0.4, colors="#d95f02", alpha=0.6))
        for node_type in dict.fromkeys((src_type, dst_type)):
            points = _degrees(arrays, node_type, centre)
            scale = 4000.0 if node_type == "data" else 12000.0
            size = float(np.clip(scale / max(len(points), 1), 0.2, 12.0))
            for label, colour, chosen_points in _groups(arrays, node_type, points, sources):
                axis.scatter(chosen_points[:, 0], chosen_points[:, 1], s=size, c=colour, label=label,
                             linewidths=0, zorder=4 if node_type == "data" else 3)  # the grid over the mesh
        axis.set_xlim(*limits[0])
        axis.set_ylim(*limits[1])
        axis.set_aspect("equal")
        axis.set_xlabel("longitude (deg)")
        axis.set_ylabel("latitude (deg)")
        axis.set_title(f"{name}: {src_type} -> {dst_type}, {index.shape[1]:,} edges "
                       f"({len(chosen):,} drawn)")
        axis.legend(loc="lower left", markerscale=6, fontsize=8)
    if title:
        figure.suptitle(title)
    return _save(figure, Path(output))


def _groups(arrays: GraphArrays, node_type: str, points: np.ndarray,
            sources: GridSources | None) -> list[tuple[str, str, np.ndarray]]:
    """(legend label, colour, points) per group drawn: the data nodes split by dataset on a cut-out grid."""
    if node_type != "data" or sources is None:
        return [(node_type, _COLOURS[node_type], points)]
    inside = sources.in_region(arrays.data_grid_index)
    return [(f"data: {sources.region} (region, {int(inside.sum()):,})", _COLOURS["region"], points[inside]),
            (f"data: {sources.boundary} (boundary, {int((~inside).sum()):,})", _COLOURS["boundary"],
             points[~inside])]


def _degrees(arrays: GraphArrays, node_type: str, centre: float) -> np.ndarray:
    """(N, 2) [longitude in [centre - 180, centre + 180), latitude] in degrees."""
    x = np.degrees((arrays.data_x if node_type == "data" else arrays.hidden_x).astype(np.float64))
    return np.stack([(x[:, 1] - centre + 180.0) % 360.0 - 180.0 + centre, x[:, 0]], axis=1)


def _central_longitude(arrays: GraphArrays) -> float:
    """The map's central longitude: 0 for a global graph, the region's centre for a limited area
    (so a region across the date line is drawn in one piece)."""
    lon = np.concatenate([arrays.data_x[:, 1], arrays.hidden_x[:, 1]]).astype(np.float64)
    mean = np.array([np.cos(lon).mean(), np.sin(lon).mean()])
    if np.hypot(*mean) < 0.2:  # longitudes all around the globe
        return 0.0
    return float(np.degrees(np.arctan2(mean[1], mean[0])))


def _limits(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis ranges around the nodes, with a margin; the whole map once they cover most of it."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * 0.05, 2.0)
    x = (low[0] - pad[0], high[0] + pad[0]) if high[0] - low[0] < 300.0 else (low[0], low[0] + 360.0)
    y = (max(low[1] - pad[1], -90.0), min(high[1] + pad[1], 90.0))
    return (float(x[0]), float(x[1])), y


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
