"""Losses: ``0.5 * mse * scalers.general_variable * node_weights(area) + ...``, with every
scaler resolved to one number per output variable."""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.builtins import NODE_WEIGHTS_FOR, REGISTRY, SCALER_KINDS
from anemoic.compiler.diagnostics import did_you_mean
from anemoic.compiler.typecheck.arguments import argument, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.variables import variable_list
from anemoic.plan.model import LossPlan, LossTermPlan, ScalerPlan


@dataclass(frozen=True)
class CheckedLoss:
    plan: LossPlan
    node_weights: str | None  # what the node scaler asks the graph to compute (kinds.NODE_WEIGHTS), if any


@dataclass
class Term:
    weight: float
    loss: v.ComponentV | None
    scalers: list[v.ComponentV]


def _terms(ctx: Context, value: v.Value) -> list[Term] | None:
    if isinstance(value, v.NamedV):
        return _terms(ctx, value.value)
    if isinstance(value, v.OpV) and value.op == "+":
        left, right = _terms(ctx, value.left), _terms(ctx, value.right)
        return None if left is None or right is None else left + right
    factors = _factors(ctx, value)
    if factors is None:
        return None
    term = Term(1.0, None, [])
    for factor in factors:
        if isinstance(factor, v.Num):
            term.weight *= float(factor.value)
        elif REGISTRY[factor.builtin].category == "loss":
            if term.loss is not None:
                ctx.sink.error("E1302", f"`{term.loss.builtin}` and `{factor.builtin}` are multiplied together",
                               factor.span, hint="add losses with `+`; multiply a loss only by weights and scalers")
                return None
            term.loss = factor
        else:
            term.scalers.append(factor)
    if term.loss is None:
        ctx.sink.error("E1301", "this loss term has weights and scalers but no loss function", value.span,
                       hint="multiply by a loss such as `mse`, `mae`, `huber` or `crps`")
        return None
    return [term]


def _factors(ctx: Context, value: v.Value) -> list[v.Num | v.ComponentV] | None:
    if isinstance(value, v.NamedV):
        value = value.value
    if isinstance(value, v.OpV) and value.op == "*":
        left, right = _factors(ctx, value.left), _factors(ctx, value.right)
        return None if left is None or right is None else left + right
    if isinstance(value, v.Num):
        return [value]
    if isinstance(value, v.ComponentV) and REGISTRY[value.builtin].category in ("loss", "scaler"):
        return [value]
    names = [b.name for b in REGISTRY.values() if b.category in ("loss", "scaler")]
    if isinstance(value, v.Symbol):
        losses = ", ".join(b.name for b in REGISTRY.values() if b.category == "loss")
        ctx.sink.error("E1303", f"unknown loss or scaler `{value.name}`", value.span,
                       hint=did_you_mean(value.name, names, f"losses: {losses}"))
    else:
        coerce.wrong(ctx.sink, "E1303", "`loss`", "a loss such as `mse * node_weights(area)`", value)
    return None


def _scaler(ctx: Context, scaler: v.ComponentV, output: tuple[str, ...],
            levels: dict[str, tuple[str | None, int | None]]) -> ScalerPlan | None:
    kind = SCALER_KINDS[scaler.builtin]
    if kind == "variable":
        default = argument(ctx, scaler, "default")
        if failed(default):
            return None
        weights = {}
        for key, span, value in scaler.extra:
            number = coerce.number(value, ctx.sink, f"the weight of `{key}`")
            if number is None:
                return None
            weights[key] = number
            groups = {levels[n][0] for n in output if levels.get(n, (None, None))[0]}
            if key not in output and key not in groups and not span.file.startswith("<std."):
                ctx.sink.warn("W1301", f"`{key}` is not an output variable or pressure-level group; its weight is "
                              "unused", span, hint=did_you_mean(key, [*output, *groups]))
        out = tuple(weights.get(n, weights.get(levels.get(n, (None, None))[0] or "", default)) for n in output)
        return ScalerPlan(kind, kind, weights=tuple(float(w) for w in out))  # type: ignore[arg-type]
    if kind == "pressure_level":
        return _level_scaler(ctx, scaler, output, levels)
    if kind == "node_weights":
        attribute = argument(ctx, scaler, "attribute")
        # the graph computes `area_weight` by the method the attribute names (see NODE_WEIGHTS_FOR)
        return None if failed(attribute) else ScalerPlan(kind, kind, params={"attribute": "area_weight"})
    if kind == "lead_time":
        decay = argument(ctx, scaler, "decay")
        return None if failed(decay) else ScalerPlan(kind, kind, params={"decay": float(decay)})  # type: ignore[arg-type]
    return ScalerPlan(kind, kind)


def _level_scaler(ctx: Context, scaler: v.ComponentV, output: tuple[str, ...],
                  levels: dict[str, tuple[str | None, int | None]]) -> ScalerPlan | None:
    method, intercept, slope = (argument(ctx, scaler, n) for n in ("method", "y_intercept", "slope"))
    if failed(method, intercept, slope):
        return None
    selected = {n for n in output if levels.get(n, (None, None))[1] is not None}
    restrict = scaler.get("variables")
    if restrict is not None:
        listed = variable_list(ctx, restrict, "`variables`")
        if listed is None:
            return None
        for var in listed:
            if levels.get(var.name, (None, None))[1] is None:
                ctx.sink.error("E1304", f"the pressure-level scaler cannot weight `{var.name}`: it has no pressure "
                               "level", var.span, hint="list only pressure-level variables such as `z_500`")
                return None
        selected = {var.name for var in listed}
    if not selected:
        ctx.sink.error("E1304", "the pressure-level scaler has no pressure-level output variable to weight",
                       scaler.span, hint="remove it, or predict variables from `pressure_levels(...)`")
        return None

    def weight(name: str) -> float:
        level = levels.get(name, (None, None))[1]
        if name not in selected or level is None:
            return 1.0
        if method == "relu":
            return max(float(intercept), float(slope) * level)  # type: ignore[arg-type]
        if method == "linear":
            return float(intercept) + float(slope) * level  # type: ignore[arg-type]
        if method == "polynomial":
            return float(intercept) + float(slope) * level * level  # type: ignore[arg-type]
        return 1.0

    return ScalerPlan("pressure_level", "pressure_level", weights=tuple(weight(n) for n in output),
                      params={"method": str(method), "y_intercept": float(intercept),  # type: ignore[arg-type]
                              "slope": float(slope)})  # type: ignore[arg-type]


def check_loss(ctx: Context, value: v.Value, output: tuple[str, ...],
               levels: dict[str, tuple[str | None, int | None]], metrics: tuple[str, ...]) -> CheckedLoss | None:
    """The loss plan, and the node weights its node scaler asks the graph for."""
    terms = _terms(ctx, value)
    if terms is None:
        return None
    ctx.mark("loss.terms", value)
    scalers: list[ScalerPlan] = []
    plans = []
    node_weights = None
    for term in terms:
        assert term.loss is not None
        if term.loss.builtin == "crps":  # every task the runtime trains predicts one member
            ctx.sink.error("E1305", "`crps` compares an ensemble with the truth; this task is not an ensemble",
                           term.loss.span, hint="use a deterministic loss such as `mse`")
            return None
        names = []
        for scaler_value in term.scalers:
            plan = _scaler(ctx, scaler_value, output, levels)
            if plan is None:
                return None
            if scaler_value.builtin == "node_weights":
                node_weights = NODE_WEIGHTS_FOR[str(argument(ctx, scaler_value, "attribute"))]
            existing = next((s for s in scalers if (s.kind, s.weights, s.params) == (plan.kind, plan.weights,
                                                                                     plan.params)), None)
            if existing is None:
                count = sum(s.kind == plan.kind for s in scalers)
                existing = ScalerPlan(plan.kind if not count else f"{plan.kind}_{count + 1}", plan.kind, plan.weights,
                                      plan.params)
                scalers.append(existing)
            names.append(existing.name)
        params = {p.name: argument(ctx, term.loss, p.name) for p in REGISTRY[term.loss.builtin].params}
        if failed(*params.values()):
            return None
        plans.append(LossTermPlan(term.loss.builtin, term.weight, tuple(names), params))  # type: ignore[arg-type]
    return CheckedLoss(LossPlan(tuple(plans), tuple(scalers), metrics), node_weights)
