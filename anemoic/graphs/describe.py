"""The text of ``anemoic graph describe``: node and edge counts, degrees, orphans, cache path; on a limited-area
model's cut-out grid, the data nodes of each dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anemoic.plan.model import EdgesPlan, GraphPlan, NodesPlan
from anemoic.graphs.arrays import EDGE_SETS, GraphArrays
from anemoic.graphs.cutout import GridSources


def describe(graph: GraphPlan, arrays: GraphArrays, cache_file: Path | None,
             sources: GridSources | None = None) -> str:
    """A table a person reads to check a graph before training on it."""
    lines = [f"graph {graph.name}", f"  cache: {cache_file if cache_file is not None else 'none (built in memory)'}",
             "", "nodes"]
    for role in ("data", "hidden"):
        plan: NodesPlan = getattr(graph, role)
        lines.append(f"  {role:<8}{arrays.num_nodes(role):>10,}  {_recipe(plan.kind, plan.params, plan.area)}")
    if sources is not None:
        lines += ["", "data nodes by dataset", *_by_dataset(arrays, sources)]
    lines += ["", "edges", f"  {'set':<10}{'source -> target':<18}{'edges':>11}  "
              f"{'in-degree min/mean/max':<24}{'out-degree min/mean/max':<25}recipe"]
    warnings = []
    for name, (src_type, dst_type) in EDGE_SETS.items():
        plan: EdgesPlan = getattr(graph, name)
        index = arrays.edges[name].edge_index
        in_degree = np.bincount(index[1], minlength=arrays.num_nodes(dst_type))
        out_degree = np.bincount(index[0], minlength=arrays.num_nodes(src_type))
        lines.append(f"  {name:<10}{src_type + ' -> ' + dst_type:<18}{index.shape[1]:>11,}  "
                     f"{_stats(in_degree):<24}{_stats(out_degree):<25}{_edge_recipe(plan)}")
        if name == "encoder" and (out_degree == 0).any():
            warnings.append(f"{int((out_degree == 0).sum()):,} data nodes send no encoder edge: "
                            "their values never reach the hidden mesh")
        if (in_degree == 0).any() and name != "encoder":
            warnings.append(f"{int((in_degree == 0).sum()):,} {dst_type} nodes receive no {name} edge")
        if name == "encoder" and (in_degree == 0).any():
            warnings.append(f"{int((in_degree == 0).sum()):,} hidden nodes receive no encoder edge")
    weights = arrays.data_area_weight
    lines += ["", f"data node weights: {graph.node_weights} ({graph.node_weights_norm}), "
              f"min {weights.min():.3g}  max {weights.max():.3g}  sum {weights.sum(dtype=np.float64):.6g}"]
    lines += [f"warning: {text}" for text in warnings]
    return "\n".join(lines) + "\n"


def _by_dataset(arrays: GraphArrays, sources: GridSources) -> list[str]:
    inside = int(sources.in_region(arrays.data_grid_index).sum())
    width = max(len(sources.region), len(sources.boundary)) + 2
    return [f"  region    {sources.region:<{width}}{inside:>8,}  of its {sources.region_size:,} points: "
            "scored and predicted (the output mask)",
            f"  boundary  {sources.boundary:<{width}}{arrays.num_nodes('data') - inside:>8,}  of its "
            f"{sources.boundary_points:,} points, those farther than {sources.margin_km:g} km from the region: "
            "forced at every step"]


def _stats(degree: np.ndarray) -> str:
    if degree.size == 0:
        return "-"
    return f"{int(degree.min())} / {degree.mean():.1f} / {int(degree.max())}"


def _recipe(kind: str, params: dict, area: dict | None = None) -> str:
    parts = [kind] + [f"{key}={_value(params[key])}" for key in sorted(params)]
    if area is not None:
        parts.append("area=" + ",".join(f"{key}:{_value(area[key])}" for key in ("north", "west", "south", "east")
                                        if key in area))
    return " ".join(parts)


def _edge_recipe(plan: EdgesPlan) -> str:
    text = _recipe(plan.kind, plan.params)
    if plan.reversed:
        text += " reversed"
    if plan.source_mask:
        text += f" source_mask={plan.source_mask}"
    if plan.target_mask:
        text += f" target_mask={plan.target_mask}"
    return text


def _value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
