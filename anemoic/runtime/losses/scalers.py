"""Loss scalers, resolved from the plan into tensors along one named dimension each.

Every scaler multiplies the point-wise error before reduction:
  variable / pressure_level   weights per output variable   (V,)   (already numbers in the plan)
  node_weights                a graph node attribute         (G,)   e.g. ``graph["data"].area_weight``
  lead_time                   decay ** lead_time_index       ()     1 when the index is not given
  nan_mask                    0 where the target is missing  (B, E, G, V) from the target / the mask passed in
  dataset_weights             a stretched grid's node weights (G,) rescaled so that the region's points (the
                              grid's first) carry the given share of the total (anemoi's weight_frac_of_total)
The product of a term's selected scalers is the weight of each error element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from anemoic.plan.kinds import ScalerKind

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from anemoic.plan.model import ScalerPlan


@dataclass(frozen=True)
class LeadTimeDecay:
    """Weight ``decay ** lead_time_index`` (index 0 is the first predicted step)."""

    decay: float

    def factor(self, lead_time_index: int | None) -> float:
        return 1.0 if lead_time_index is None else float(self.decay) ** lead_time_index


class TermScalers(nn.Module):
    """The scalers one loss term selected, as buffers (they move with the loss, never train)."""

    def __init__(
        self, variable: Tensor | None, node: Tensor | None, lead_time: LeadTimeDecay | None, masks_nans: bool
    ) -> None:
        super().__init__()
        self.register_buffer("variable", variable, persistent=False)
        self.register_buffer("node", node, persistent=False)
        self.lead_time = lead_time
        self.masks_nans = masks_nans

    def weight(self, error: Tensor, lead_time_index: int | None, grid: slice | None = None) -> Tensor:
        """``error`` (B, E, G, V) times the variable, node and lead-time scalers; ``grid``: the grid points
        ``error`` holds (a shard of a model group), whose node weights apply."""
        if self.variable is not None:
            error = error * self.variable.to(error.dtype)
        if self.node is not None:
            node = self.node if grid is None else self.node[grid]
            error = error * node.to(error.dtype).unsqueeze(-1)
        if self.lead_time is not None:
            error = error * self.lead_time.factor(lead_time_index)
        return error


@dataclass
class _Selected:
    """The scalers of one term so far: several of one kind multiply."""

    output_variables: tuple[str, ...]
    graph: HeteroData
    variable: Tensor | None = None
    node: Tensor | None = None
    lead_time: LeadTimeDecay | None = None
    masks_nans: bool = False
    region_points: int | None = None  # a cut-out grid's region size: its first points
    region_share: float | None = None  # the region's share of the total node weight (dataset_weights)


def _times(current: Tensor | None, weights: Tensor) -> Tensor:
    return weights if current is None else current * weights


def _select_variable(plan: ScalerPlan, into: _Selected) -> None:
    into.variable = _times(into.variable, _variable_weights(plan, into.output_variables))


def _select_node(plan: ScalerPlan, into: _Selected) -> None:
    into.node = _times(into.node, _node_weights(plan, into.graph))


def _select_lead_time(plan: ScalerPlan, into: _Selected) -> None:
    decay = float(plan.params.get("decay", 1.0))  # type: ignore[arg-type]
    into.lead_time = LeadTimeDecay(decay if into.lead_time is None else into.lead_time.decay * decay)


def _select_nan_mask(plan: ScalerPlan, into: _Selected) -> None:
    into.masks_nans = True


def _select_dataset_weights(plan: ScalerPlan, into: _Selected) -> None:
    if into.region_points is None or len(plan.weights) != 2:
        raise ValueError(f"scaler {plan.name!r} shares the node weight between a cut-out grid's two datasets; "
                         "this model's grid has one")
    into.region_share = float(plan.weights[0])


def reweight_datasets(node: Tensor, region_points: int, share: float) -> Tensor:
    """``node`` (G,) rescaled so that its first ``region_points`` carry ``share`` of its total and the rest
    ``1 - share`` (each part keeps its shape; anemoi's ReweightedGraphNodeAttribute)."""
    total = node.sum()
    region, outer = node[:region_points], node[region_points:]
    if not 0 < region_points < node.numel() or float(region.sum()) <= 0 or float(outer.sum()) <= 0:
        raise ValueError(f"dataset weights need node weight on both datasets: {region_points} region points of "
                         f"{node.numel()}")
    return torch.cat([region * (share * total / region.sum()), outer * ((1 - share) * total / outer.sum())])


SCALERS: dict[ScalerKind, Callable[[ScalerPlan, _Selected], None]] = {
    "variable": _select_variable,
    "pressure_level": _select_variable,  # weights per output variable too, resolved by the compiler
    "node_weights": _select_node,
    "lead_time": _select_lead_time,
    "nan_mask": _select_nan_mask,
    "dataset_weights": _select_dataset_weights,  # applied last, to the product of the node scalers
}
"""How each scaler kind joins a term's scalers."""


def resolve_term_scalers(
    names: tuple[str, ...], plans: tuple[ScalerPlan, ...], output_variables: tuple[str, ...], graph: HeteroData,
    region_points: int | None = None,
) -> TermScalers:
    """Build the scalers a loss term names; variable-dimension scalers multiply into one vector.
    ``region_points``: a stretched grid's region size (its first points), which ``dataset_weights`` needs."""
    by_name = {p.name: p for p in plans}
    selected = _Selected(output_variables, graph, region_points=region_points)
    for name in names:
        if name not in by_name:
            raise ValueError(f"loss term uses scaler {name!r}, which the plan does not define "
                             f"(defined: {', '.join(sorted(by_name)) or 'none'})")
        plan = by_name[name]
        if plan.kind not in SCALERS:
            raise ValueError(f"scaler {name!r} has unknown kind {plan.kind!r}; choose one of {', '.join(SCALERS)}")
        SCALERS[plan.kind](plan, selected)
    if selected.region_share is not None and selected.region_points is not None:
        node = selected.node if selected.node is not None else torch.ones(graph["data"].num_nodes)
        selected.node = reweight_datasets(node.to(torch.float32), selected.region_points, selected.region_share)
    return TermScalers(selected.variable, selected.node, selected.lead_time, selected.masks_nans)


def _variable_weights(plan: ScalerPlan, output_variables: tuple[str, ...]) -> Tensor:
    if len(plan.weights) != len(output_variables):
        raise ValueError(f"scaler {plan.name!r} has {len(plan.weights)} weights but the model has "
                         f"{len(output_variables)} output variables ({', '.join(output_variables)})")
    return torch.tensor(plan.weights, dtype=torch.float32)


def _node_weights(plan: ScalerPlan, graph: HeteroData) -> Tensor:
    attribute = str(plan.params.get("attribute", "area_weight"))
    if attribute not in graph["data"]:
        raise ValueError(f"scaler {plan.name!r} needs the data-node attribute {attribute!r}, which the graph lacks")
    weights = graph["data"][attribute].to(torch.float32).reshape(-1)
    if not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
        raise ValueError(f"scaler {plan.name!r}: node attribute {attribute!r} must be finite and non-negative")
    return weights
