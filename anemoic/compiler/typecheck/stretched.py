"""A stretched-grid model's loss: ``dataset_weights(pacific = 0.5)`` gives each dataset of a cut-out grid its
share of the total node weight (anemoi's ReweightedGraphNodeAttribute ``weight_frac_of_total``).

It needs both datasets to be scored: a graph on one dataset has nothing to share (E0519), a limited-area model
scores its region alone (E0833); the names are the cut-out's datasets (E0517) and each share lies strictly
between 0 and 1, the shares of both summing to 1 (E0518)."""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span, did_you_mean
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.graph_model import GraphParts
from anemoic.compiler.typecheck.limited_area import OutputMask
from anemoic.plan.model import ScalerPlan


@dataclass(frozen=True)
class Scored:
    """Which datasets the loss sees: the graph's, and on a cut-out whether the region alone is (a LAM)."""

    graph: str
    dataset: str  # the model's dataset (a cut-out's region)
    boundary: str | None  # a cut-out's outer dataset
    masked: bool  # `output_mask = <region>`: only the region is scored
    cut: Span | None

    @staticmethod
    def of(graph: GraphParts | None, mask: OutputMask | None) -> Scored | None:
        """None when the graph did not check (its diagnostic is reported)."""
        if graph is None:
            return None
        cut = graph.cutout
        return Scored(graph.name, graph.dataset, cut.boundary.name if cut is not None else None,
                      mask is not None and mask.region is not None, cut.span if cut is not None else None)


def dataset_weights(ctx: Context, scaler: v.ComponentV, scored: Scored | None) -> ScalerPlan | None:
    """The plan's ``dataset_weights`` scaler: weights (region's share, outer dataset's share)."""
    if scored is None:
        return None
    if scored.boundary is None:
        ctx.sink.error("E0519", f"`dataset_weights` shares the loss between the datasets of a stretched grid, but the "
                       f"graph `{scored.graph}` is built on the dataset `{scored.dataset}` alone", scaler.span,
                       hint=f"remove `dataset_weights(...)`, or build the graph on `cutout({scored.dataset}, "
                       "global, margin_km = 300)` with `output_mask = none`")
        return None
    example = f"`dataset_weights({scored.dataset} = 0.5)`"
    if scored.masked:
        ctx.sink.error("E0833", f"`dataset_weights` shares the loss between `{scored.dataset}` and "
                       f"`{scored.boundary}`, but `output_mask = {scored.dataset}` scores the region alone (a "
                       "limited-area model: its boundary is forced, never scored)", scaler.span,
                       notes=(("the cut-out is here", scored.cut),) if scored.cut else (),
                       hint=f"remove `dataset_weights(...)`, or write `output_mask = none` to forecast and score "
                       "both datasets (a stretched-grid model)")
        return None
    names = (scored.dataset, scored.boundary)
    shares: dict[str, float] = {}
    for key, span, value in scaler.extra:
        if key not in names:
            ctx.sink.error("E0517", f"`dataset_weights`: `{key}` is not a dataset of the model's grid "
                           f"`cutout({scored.dataset}, {scored.boundary}, ...)`", span,
                           hint=did_you_mean(key, list(names), f"name `{scored.dataset}` or `{scored.boundary}`, "
                                             f"as in {example}"))
            return None
        share = coerce.number(value, ctx.sink, f"the weight of `{key}`")
        if share is None:
            return None
        if not 0.0 < share < 1.0:
            ctx.sink.error("E0518", f"the weight of `{key}` is {share:g}: a dataset's share of the total node weight "
                           "lies strictly between 0 and 1", value.span,
                           hint=f"{example} gives the region half of the loss's node weight and `{scored.boundary}` "
                           "the other half")
            return None
        shares[key] = float(share)
    if not shares:
        ctx.sink.error("E0518", "`dataset_weights` names no dataset", scaler.span,
                       hint=f"write {example}: the region's share of the total node weight, the rest "
                       f"`{scored.boundary}`'s")
        return None
    region = shares.get(scored.dataset, 1.0 - shares.get(scored.boundary, 0.0))
    outer = shares.get(scored.boundary, 1.0 - region)
    if abs(region + outer - 1.0) > 1e-9:
        ctx.sink.error("E0518", f"the datasets' shares of the total node weight sum to {region + outer:g}, not 1",
                       scaler.span, hint=f"name one dataset, as in {example} (the other takes the rest)")
        return None
    return ScalerPlan("dataset_weights", "dataset_weights", weights=(round(region, 12), round(outer, 12)),
                      params={"region": scored.dataset, "boundary": scored.boundary})
