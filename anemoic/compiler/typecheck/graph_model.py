"""The graph (data grid, hidden mesh, encoder/processor/decoder edges) and the model."""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.builtins import REGISTRY, Param
from anemoic.compiler.diagnostics import Span
from anemoic.compiler.typecheck.arguments import argument, component, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.plan import kinds
from anemoic.plan.model import EdgesPlan, ModelPlan, NodesPlan

_EDGE_DEFAULTS = {"encoder": ("cutoff", {"factor": 0.6, "max_neighbours": 64}),
                  "decoder": ("knn", {"k": 3})}


@dataclass(frozen=True)
class Cutout:
    """``cutout(region, boundary, margin_km = ...)``: a limited-area model's two datasets."""

    region: v.DatasetV
    boundary: v.DatasetV
    margin_km: float
    span: Span


@dataclass(frozen=True)
class GraphParts:
    name: str
    dataset: str  # the model's dataset: the one it forecasts (a cut-out's region)
    hidden: NodesPlan
    encoder: EdgesPlan
    processor: EdgesPlan
    decoder: EdgesPlan
    node_weights: str | None  # as written; None: the loss's node scaler (or the default) decides in lowering
    node_weights_norm: str
    cutout: Cutout | None = None
    source: v.Value | None = None  # a spatial downscaler's coarse dataset, as written (``typecheck.spatial``)


def _nodes(ctx: Context, value: v.Value | None, region: str | None) -> NodesPlan | None:
    """The hidden mesh; ``region``: the region dataset of a graph over a cut-out grid, what a ``mask`` names."""
    nodes = component(ctx, value, "nodes", "`hidden`", "icosahedral(refinement = 5)")
    if nodes is None:
        if value is None:
            ctx.sink.error("E0211", "the graph needs a `hidden` mesh", ctx.file_span(),
                           hint="add `hidden = icosahedral(refinement = 5)`")
        return None
    params: dict = {}
    area = None
    for param in _params(nodes):
        if param.type == "area":
            area = _area(ctx, nodes.get(param.name), nodes)
            if area is False:
                return None
            continue
        if param.type == "region_dataset":
            mask = _mask(ctx, nodes.get(param.name), region, nodes)
            if mask is False:
                return None
            if mask is not None:
                params["mask"] = mask
            continue
        result = argument(ctx, nodes, param.name, f"graph.hidden.params.{param.name}")
        if failed(result):
            return None
        if result is not None:
            params[param.name] = result
    for name in ("refinement", "global_refinement", "area_refinement"):
        value = params.get(name)
        if isinstance(value, int) and not 0 <= value <= 10:
            ctx.sink.error("E0105", f"`{name}` {value} is outside 0..10", nodes.get(name).span,  # type: ignore
                           hint="level 5 has 10,242 nodes, level 6 has 40,962; level 10 has ten million")
            return None
    if nodes.builtin == "stretched" and params["area_refinement"] < params["global_refinement"]:
        ctx.sink.error("E0105", "`area_refinement` must be at least `global_refinement`", nodes.span)
        return None
    return NodesPlan(nodes.builtin, params, area)


def _mask(ctx: Context, value: v.Value | None, region: str | None, nodes: v.ComponentV) -> str | None | bool:
    """The region dataset's name a mesh is kept near (anemoi's mask-limited nodes); False after a diagnostic."""
    if value is None:
        return None
    where = nodes.span if isinstance(value, v.DatasetV) else value.span  # a dataset's own span is its declaration
    ctx.mark("graph.hidden.params.mask", where)
    if region is None:
        ctx.sink.error("E0710", "a `mask` needs a graph over a cut-out grid (a region and a boundary dataset)",
                       where, hint="build the graph on `cutout(region, boundary, margin_km = ...)`, or limit "
                                        "the mesh with `area = {north: .., west: .., south: .., east: ..}`")
        return False
    if not isinstance(value, v.DatasetV) or value.name != region:
        ctx.sink.error("E0711", f"the mesh's `mask` must be the cut-out's region `{region}`, not "
                       f"{f'`{value.name}`' if isinstance(value, v.DatasetV) else v.describe(value)}", where,
                       hint=f"write `mask = {region}`: the mesh is kept within `margin_km` of its points")
        return False
    return region


def _area(ctx: Context, value: v.Value | None, nodes: v.ComponentV) -> dict | None | bool:
    """``{north: 30, west: 150, south: -20, east: 275}`` in degrees; False after a diagnostic."""
    if value is None:
        if nodes.builtin == "stretched" and nodes.get("mask") is None:
            ctx.sink.error("E0211", "`stretched` needs an `area` or a `mask`", nodes.span,
                           hint="add `area = {north: 60, west: -10, south: 40, east: 20}`")
            return False
        return None
    if nodes.builtin == "stretched" and nodes.get("mask") is not None:
        ctx.sink.error("E0712", "`stretched` refines inside an `area` or near a `mask`, not both", value.span,
                       hint="keep one of them")
        return False
    ctx.mark("graph.hidden.area", value)
    keys = ("north", "west", "south", "east")
    if not isinstance(value, v.RecordV) or sorted(k for k, _, _ in value.entries) != sorted(keys):
        coerce.wrong(ctx.sink, "E0704", "`area`", "a record `{north: .., west: .., south: .., east: ..}` in degrees",
                     value)
        return False
    out = {}
    for key, _, item in value.entries:
        number = coerce.number(item, ctx.sink, f"`{key}` of the area")
        if number is None:
            return False
        out[key] = number
    if not (-90 <= out["south"] < out["north"] <= 90):
        ctx.sink.error("E0704", "the area's `south` must be below its `north`, both within -90..90", value.span)
        return False
    return out


def _params(component_value: v.ComponentV) -> tuple[Param, ...]:
    return REGISTRY[component_value.builtin].params


def _edges(ctx: Context, value: v.Value | None, role: str, hidden: NodesPlan) -> EdgesPlan | None:
    if value is None:
        if role == "processor" and hidden.kind not in ("icosahedral", "stretched"):
            return EdgesPlan("knn", {"k": 6})
        if role == "processor":
            levels = {"levels": int(hidden.params["refinement"])} if hidden.kind == "icosahedral" else {}
            return EdgesPlan("multiscale", {**levels, "x_hops": 1})
        kind, params = _EDGE_DEFAULTS[role]
        return EdgesPlan(kind, dict(params))
    edges = component(ctx, value, "edges", f"`{role}`", "knn(k = 3)")
    if edges is None:
        return None
    params = {}
    for param in _params(edges):
        result = argument(ctx, edges, param.name, f"graph.{role}.params.{param.name}")
        if failed(result):
            return None
        if result is not None:
            params[param.name] = result
    if edges.builtin == "cutoff" and "radius_km" in params:
        params.pop("factor")  # a radius replaces the mesh-relative factor
    if edges.builtin == "knn" and params["k"] < 1:
        ctx.sink.error("E0105", "`k` must be at least 1", edges.span)
        return None
    if edges.builtin == "multiscale":
        if hidden.kind not in ("icosahedral", "stretched"):
            ctx.sink.error("E0701", f"`multiscale` edges need an icosahedral hidden mesh, not `{hidden.kind}`",
                           edges.span, hint="use `knn(k = ...)` for this mesh, or `hidden = icosahedral(...)`")
            return None
        if params.get("levels") is None and hidden.kind == "icosahedral":
            params["levels"] = int(hidden.params["refinement"])
    return EdgesPlan(edges.builtin, params)


def check_graph(ctx: Context, named: v.NamedV, dataset_name: str | None) -> GraphParts | None:
    graph = component(ctx, named.value, "graph", f"the graph `{named.name}`",
                      "encode_process_decode(era5, hidden = icosahedral(refinement = 5))")
    if graph is None:
        return None
    data = graph.get("data")
    cut = _cutout(ctx, data) if isinstance(data, v.ComponentV) and data.builtin == "cutout" else None
    if cut is False:
        return None
    region = cut.region.name if cut is not None else None  # type: ignore[union-attr]
    if cut is not None:
        data = cut.region  # type: ignore[union-attr]
    if not isinstance(data, v.DatasetV):
        where = data.span if data is not None else graph.span
        ctx.sink.error("E0702", f"the graph `{named.name}` must be built on the dataset"
                       f"{f' `{dataset_name}`' if dataset_name else ''}", where,
                       hint=f"pass the dataset first: `{graph.builtin}({dataset_name or 'era5'}, ...)`, or a "
                       "limited-area model's `cutout(region, boundary, margin_km = 300)`")
        return None
    hidden = _nodes(ctx, graph.get("hidden"), region)
    if hidden is None:
        return None
    ctx.mark("graph.hidden", graph.get("hidden"))
    parts = {role: _edges(ctx, graph.get(role), role, hidden) for role in ("encoder", "processor", "decoder")}
    weights = argument(ctx, graph, "node_weights", "graph.node_weights") if graph.get("node_weights") is not None \
        else None
    norm = argument(ctx, graph, "node_weights_norm", "graph.node_weights_norm")
    if any(p is None for p in parts.values()) or failed(weights, norm):
        return None
    ctx.mark("graph.name", named.span)
    return GraphParts(named.name, data.name, hidden, parts["encoder"], parts["processor"],  # type: ignore[arg-type]
                      parts["decoder"], weights, str(norm), cut,  # type: ignore[arg-type]
                      graph.get("source"))


def _cutout(ctx: Context, value: v.ComponentV) -> Cutout | bool:
    """The region and boundary datasets of ``cutout(...)`` and its margin; False after a diagnostic."""
    datasets = []
    for role in ("region", "boundary"):
        item = value.get(role)
        if item is None:
            ctx.sink.error("E0211", f"`cutout` needs the {role} dataset", value.span,
                           hint="write `cutout(region, boundary, margin_km = 300)`: the regional dataset first, then "
                           "the global one around it")
            return False
        if not isinstance(item, v.DatasetV):
            coerce.wrong(ctx.sink, "E0702", f"the {role} of `cutout`", "a dataset", item)
            return False
        datasets.append(item)
    region, boundary = datasets
    if region.name == boundary.name:
        ctx.sink.error("E0702", f"`cutout` needs two datasets, not `{region.name}` twice", value.span,
                       hint="the region first, then the (global) dataset around it: `cutout(region, globe, ...)`")
        return False
    margin = argument(ctx, value, "margin_km", "boundary.margin_km")
    if failed(margin):
        return False
    if float(margin) < 0:  # type: ignore[arg-type]
        ctx.sink.error("E0105", "`margin_km` must not be negative", value.get("margin_km").span,  # type: ignore
                       hint="the boundary keeps the points farther than `margin_km` from every region point")
        return False
    return Cutout(region, boundary, float(margin), value.span)  # type: ignore[arg-type]


def check_model(ctx: Context, named: v.NamedV, graph_name: str | None) -> ModelPlan | None:
    model = component(ctx, named.value, "model", f"the model `{named.name}`", "graphtransformer(g, channels = 512)")
    if model is None:
        return None
    graph = model.get("graph")
    if not (isinstance(graph, v.NamedV) and graph.kind == "graph"):
        where = graph.span if graph is not None else model.span
        ctx.sink.error("E0702", f"the model `{named.name}` must be given the graph"
                       f"{f' `{graph_name}`' if graph_name else ''}", where,
                       hint=f"pass it first: `graphtransformer({graph_name or 'g'}, ...)`")
        return None
    names = ("processor", "encoder", "decoder", "channels", "layers", "heads", "mlp_ratio", "activation", "norm",
             "qk_norm", "window_size", "trainable_data_size", "trainable_hidden_size", "gradient_checkpointing",
             "attention_backend", "num_chunks")
    fields = {"mlp_ratio": "mlp_hidden_ratio"}
    got = {n: argument(ctx, model, n, f"model.{fields.get(n, n)}") for n in names}
    if failed(*got.values()):
        return None
    processor = str(got["processor"])
    mapper = processor if processor in kinds.MAPPERS else "graphtransformer"
    for key in ("encoder", "decoder"):
        got[key] = got[key] or mapper
    for key in ("channels", "layers", "heads", "num_chunks"):
        if int(got[key]) < 1:  # type: ignore[call-overload]
            ctx.sink.error("E0105", f"`{key}` must be at least 1", (model.get(key) or model).span)
            return None
    channels, heads = int(got["channels"]), int(got["heads"])  # type: ignore[call-overload]
    if channels % heads:
        ctx.sink.error("E0703", f"{channels} channels cannot be split evenly over {heads} attention heads",
                       (model.get("channels") or model).span,
                       hint=f"use a multiple of {heads}, e.g. {heads * max(1, round(channels / heads))}")
        return None
    if got["window_size"] is not None and processor != "transformer":
        ctx.sink.warn("W0701", f"`window_size` only applies to the transformer processor, not `{processor}`",
                      model.get("window_size").span)  # type: ignore[union-attr]
    return ModelPlan(
        processor=processor, encoder=str(got["encoder"]), decoder=str(got["decoder"]), channels=channels,
        layers=int(got["layers"]), heads=heads, mlp_hidden_ratio=int(got["mlp_ratio"]),  # type: ignore[call-overload]
        activation=str(got["activation"]), norm=str(got["norm"]), qk_norm=bool(got["qk_norm"]),
        window_size=got["window_size"],  # type: ignore[arg-type]
        trainable_data_size=int(got["trainable_data_size"]),  # type: ignore[call-overload]
        trainable_hidden_size=int(got["trainable_hidden_size"]),  # type: ignore[call-overload]
        gradient_checkpointing=bool(got["gradient_checkpointing"]), attention_backend=str(got["attention_backend"]),
        num_chunks=int(got["num_chunks"]))  # type: ignore[call-overload]
