"""Build the training loss a plan describes (``plan.loss``) on the model's graph."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from anemoic.runtime.losses.scalers import resolve_term_scalers
from anemoic.runtime.losses.weighted import CombinedLoss, WeightedLoss

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from anemoic.plan.model import LossTermPlan, Plan


def build_loss(plan: Plan, graph: HeteroData) -> CombinedLoss:
    """loss(pred, target, *, lead_time_index=None, nan_mask=None) -> scalar tensor.

    pred, target: (B, E, G, V_out) normalised, V_out in ``plan.indices.output`` order (target may have
    E = 1). ``lead_time_index``: 0-based rollout step, for the lead-time scaler. ``nan_mask``: bool,
    broadcastable to the target, True where the target value is missing (used by terms that select a
    ``nan_mask`` scaler). The result is sum_i weight_i * term_i with each term following
    docs/models.md "Loss formula". Raises ValueError naming any inconsistency in the plan.
    """
    if not plan.loss.terms:
        raise ValueError("the plan's loss has no terms")
    region = plan.dataset.grid_size if plan.boundary is not None else None
    if region is not None:  # a limited-area model: the loss's graph is the region's part of the data nodes
        graph = region_graph(graph, region)
    terms = [_build_term(term, plan, graph) for term in plan.loss.terms]
    return CombinedLoss(terms, [term.weight for term in plan.loss.terms], output_points=region)


def region_graph(graph: HeteroData, region: int) -> HeteroData:
    """The data nodes' attributes over the output mask (the first ``region`` points), node weights rescaled to
    the whole grid's total (a unit-sum area weight stays unit-sum over the region)."""
    from torch_geometric.data import HeteroData

    whole = graph["data"]
    if region <= 0 or region >= whole.num_nodes:
        raise ValueError(f"the output mask's {region} points are not a part of the {whole.num_nodes} data nodes")
    out = HeteroData()
    for key, value in whole.items():
        if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == whole.num_nodes:
            value = value[:region]
            if value.is_floating_point() and key != "x" and float(value.sum()) > 0:
                value = value * (whole[key].sum() / value.sum())
        out["data"][key] = value
    return out


def _build_term(term: LossTermPlan, plan: Plan, graph: HeteroData) -> WeightedLoss:
    scalers = resolve_term_scalers(term.scalers, plan.loss.scalers, plan.indices.output, graph)
    delta = float(term.params.get("delta", 1.0))  # type: ignore[arg-type]
    reduction = str(term.params.get("variable_reduction", "sum"))
    alpha = float(term.params.get("alpha", 1.0))  # type: ignore[arg-type]
    return WeightedLoss(term.kind, scalers, delta=delta, variable_reduction=reduction, alpha=alpha)
