"""Losses: ``0.5 * mse * scalers.general_variable * node_weights(area) + ...``, with every
scaler resolved to one number per output variable."""

from __future__ import annotations

from dataclasses import dataclass

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.builtins import CRPS_ALPHA, LOSS_KINDS, NODE_WEIGHTS_FOR, REGISTRY, SCALER_KINDS
from anemoic.compiler.diagnostics import did_you_mean
from anemoic.compiler.typecheck.arguments import argument, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.stretched import Scored, dataset_weights
from anemoic.compiler.typecheck.variables import variable_list
from anemoic.plan import kinds
from anemoic.plan.model import LossPlan, LossTermPlan, MethodPlan, ScalerPlan


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
            levels: dict[str, tuple[str | None, int | None]], scored: Scored | None) -> ScalerPlan | None:
    kind = SCALER_KINDS[scaler.builtin]
    if kind == "dataset_weights":
        return dataset_weights(ctx, scaler, scored)
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


def _loss_params(ctx: Context, loss: v.ComponentV) -> dict[str, object] | None:
    """The term's parameters as the plan holds them: a CRPS word's ``alpha``, checked to lie in [0, 1]."""
    params = {p.name: argument(ctx, loss, p.name) for p in REGISTRY[loss.builtin].params}
    if failed(*params.values()):
        return None
    if loss.builtin in CRPS_ALPHA:
        params["alpha"] = CRPS_ALPHA[loss.builtin]
    alpha = params.get("alpha")
    if isinstance(alpha, float) and not 0.0 <= alpha <= 1.0:
        where = loss.get("alpha")
        ctx.sink.error("E1306", f"`alpha` of `{loss.builtin}` is {alpha:g}; it weighs the fair CRPS against the "
                       "ensemble's own and lies between 0 and 1", where.span if where is not None else loss.span,
                       hint="AIFS-CRPS uses `almost_fair_crps(alpha = 0.95)`; 1 is `fair_crps`, 0 is `crps`")
        return None
    return params


def _fits_method(ctx: Context, terms: list[Term], method: MethodPlan) -> bool:
    """Ensemble losses need members; an ensemble without one is allowed but learns no spread (a warning)."""
    ensemble_terms = [t.loss for t in terms
                      if t.loss is not None and LOSS_KINDS[t.loss.builtin] in kinds.ENSEMBLE_LOSSES]
    if method.kind != "ensemble":
        for loss in ensemble_terms:
            ctx.sink.error("E1305", f"`{loss.builtin}` compares the members of an ensemble with the truth; this "
                           f"task's method is {method.kind}", loss.span,
                           hint="train an ensemble (`method = ensemble(members = 4)`) or use a loss such as `mse`")
        return not ensemble_terms
    if not ensemble_terms:
        first = terms[0].loss
        assert first is not None
        ctx.sink.warn("W1302", f"the ensemble is trained without an ensemble loss: with `{first.builtin}` every member "
                      "learns the same mean, so the ensemble learns no spread", first.span,
                      hint="use `fair_crps`, `almost_fair_crps(alpha = 0.95)`, `crps` or `energy_score`")
    return True


def check_loss(ctx: Context, value: v.Value, output: tuple[str, ...],
               levels: dict[str, tuple[str | None, int | None]], metrics: tuple[str, ...],
               method: MethodPlan, scored: Scored | None = None) -> CheckedLoss | None:
    """The loss plan, and the node weights its node scaler asks the graph for; ``scored``: the datasets the
    model's graph scores (for ``dataset_weights``), None when the graph did not check."""
    terms = _terms(ctx, value)
    if terms is None:
        return None
    ctx.mark("loss.terms", value)
    if not _fits_method(ctx, terms, method):
        return None
    scalers: list[ScalerPlan] = []
    plans = []
    node_weights = None
    for term in terms:
        assert term.loss is not None
        names = []
        for scaler_value in term.scalers:
            plan = _scaler(ctx, scaler_value, output, levels, scored)
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
        params = _loss_params(ctx, term.loss)
        if params is None:
            return None
        plans.append(LossTermPlan(LOSS_KINDS[term.loss.builtin], term.weight, tuple(names),  # type: ignore[arg-type]
                                  params))  # type: ignore[arg-type]
    return CheckedLoss(LossPlan(tuple(plans), tuple(scalers), metrics), node_weights)
