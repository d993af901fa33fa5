"""Variables and their roles, normalisers, imputers, remappers and output bounds.

A variable is written as a name (``msl``), a digit-led word (``2t``, ``10u``) or a string;
``pressure_levels(z, t; levels = [500, 850])`` expands to ``z_500, z_850, t_500, t_850``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span, did_you_mean
from anemoic.compiler.typecheck import unsupported
from anemoic.compiler.typecheck.context import Context, Settings
from anemoic.compiler.typecheck.dataset import DatasetInfo
from anemoic.compiler.typecheck.per_variable import COMPUTED, imputers, name_of, per_variable
from anemoic.plan import kinds
from anemoic.plan.model import ImputerPlan, IndexPlan, VariablePlan

if TYPE_CHECKING:
    from anemoic.datasets.store import StoreMetadata

SETTINGS = (*kinds.ROLES, "target", "normalise", "impute", "remap", "bound")
_LEVEL_NAME = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_(\d+)$")


@dataclass
class Var:
    name: str
    span: Span
    group: str | None = None
    level: int | None = None


def _plain(name: str, span: Span) -> Var:
    match = _LEVEL_NAME.match(name)
    if match:
        return Var(name, span, match.group(1), int(match.group(2)))
    return Var(name, span)


def variable_list(ctx: Context, value: v.Value, what: str) -> list[Var] | None:
    """Flatten a variable-set expression into variables, in the order written."""
    name = name_of(value)
    if name is not None:
        return [_plain(name, value.span)]
    if isinstance(value, v.ListV):
        out: list[Var] = []
        ok = True
        for item in value.items:
            part = variable_list(ctx, item, what)
            ok = ok and part is not None
            out.extend(part or [])
        return out if ok else None
    if isinstance(value, v.ComponentV) and value.builtin in ("pressure_levels", "surface"):
        return _group(ctx, value, what)
    if isinstance(value, v.OpV) and value.op in "+-":
        left, right = variable_list(ctx, value.left, what), variable_list(ctx, value.right, what)
        if left is None or right is None:
            return None
        if value.op == "+":
            return left + right
        names = {x.name for x in left}
        for var in right:
            if var.name not in names:
                ctx.sink.error("E0610", f"`{var.name}` cannot be removed: it is not in the set before `-`", var.span)
        drop = {x.name for x in right}
        return [x for x in left if x.name not in drop]
    coerce.wrong(ctx.sink, "E0611", what, "variable names such as `[2t, msl]`", value,
                 hint="list variables in `[ ]`, or use `pressure_levels(z, t; levels = [500, 850])`")
    return None


def _group(ctx: Context, value: v.ComponentV, what: str) -> list[Var] | None:
    names = []
    flat: list[v.Value] = []
    for item in value.rest:
        flat.extend(item.items if isinstance(item, v.ListV) else (item,))
    for item in flat:
        name = name_of(item)
        if name is None:
            coerce.wrong(ctx.sink, "E0611", f"`{value.builtin}`", "variable names", item)
            return None
        names.append((name, item.span))
    if value.builtin == "surface":
        return [_plain(n, s) for n, s in names]
    levels_value = value.get("levels")
    if levels_value is None:
        ctx.sink.error("E0612", "`pressure_levels` needs the levels", value.span,
                       hint="write `pressure_levels(z, t; levels = [500, 850])`")
        return None
    levels = coerce.number_list(levels_value, ctx.sink, "`levels`", whole=True)
    if levels is None:
        return None
    for level in levels:
        if not 1 <= int(level) <= 1100:
            ctx.sink.error("E0612", f"{level} hPa is not a pressure level in the atmosphere", levels_value.span,
                           hint="pressure levels are in hPa, between 1 and 1100")
            return None
    return [Var(f"{n}_{int(lev)}", s, n, int(lev)) for n, s in names for lev in levels]


@dataclass
class VariablesResult:
    variables: tuple[VariablePlan, ...]
    indices: IndexPlan
    levels: dict[str, tuple[str | None, int | None]]  # name -> (group, level)


def check_variables(ctx: Context, settings: Settings, dataset: DatasetInfo | None,
                    section_span: Span) -> VariablesResult | None:
    metadata = dataset.metadata if dataset is not None else None
    store = tuple(metadata.variables) if metadata is not None else None
    roles: dict[str, str] = {}
    found: dict[str, Var] = {}
    ok = "target" not in settings
    if "target" in settings:
        unsupported.refuse(ctx, unsupported.TARGET_ROLE, settings["target"].span)
    for role in kinds.ROLES:
        if role not in settings:
            continue
        listed = variable_list(ctx, settings[role], f"`{role}`")
        if listed is None:
            ok = False
            continue
        ctx.mark(f"indices.{role}", settings[role])
        for var in listed:
            if var.name in roles:
                where = "twice" if roles[var.name] == role else f"as {roles[var.name]} and {role}"
                ctx.sink.error("E0601", f"`{var.name}` is listed {where}", var.span,
                               notes=(("first listed here", found[var.name].span),),
                               hint="each variable has exactly one role")
                continue
            roles[var.name] = role
            found[var.name] = var
            ok = _known(ctx, var, role, store) and ok
    if settings.missing("prognostic"):
        ctx.sink.error("E0604", "no `prognostic` variables: the model would have nothing to forecast", section_span,
                       hint="add `prognostic = [...]` to the `variables` block")
        ok = False
    norm = per_variable(ctx, settings, "normalise", kinds.NORMALISERS, found, required=True)
    remap = per_variable(ctx, settings, "remap", kinds.REMAPS, found)
    bound = per_variable(ctx, settings, "bound", kinds.BOUNDINGS, found)
    impute = imputers(ctx, settings, found)
    if impute is not None:
        _gaps_need_imputers(ctx, settings, found, impute, metadata)
    if not ok or norm is None or remap is None or bound is None or impute is None:
        return None
    for name, (kind, span) in bound.items():
        if roles[name] not in ("prognostic", "diagnostic"):
            ctx.sink.error("E0609", f"`{name}` is a {roles[name]} variable; only model outputs can be bounded", span,
                           hint="bounds apply to prognostic and diagnostic variables")
    missing_stats = metadata.statistics_missing if metadata is not None else frozenset()
    for name, (kind, span) in norm.items():
        if kind != "none" and name in COMPUTED and (store is None or name not in store):
            ctx.sink.error("E0608", f"`{name}` is computed from the grid and date and has no statistics to "
                           f"normalise with `{kind}`", span, hint=f"use `{name}: none`")
        elif kind != "none" and name in missing_stats:
            ctx.sink.error("E0608", f"`{name}` is normalised with `{kind}` but the store has no statistics for it",
                           span, hint=f"use `{name}: none`, or recompute the store's statistics")
    return _build(ctx, roles, found, norm, remap, bound, impute, store)


def _known(ctx: Context, var: Var, role: str, store: tuple[str, ...] | None) -> bool:
    if store is not None and var.name in store:
        return True
    if var.name in COMPUTED:
        if role != "forcing":
            ctx.sink.error("E0603", f"`{var.name}` is computed from the grid and date; it can only be a forcing",
                           var.span, hint=f"move `{var.name}` to `forcing`")
            return False
        return True
    if store is None:
        return True
    ctx.sink.error("E0602", f"the dataset has no variable `{var.name}`", var.span,
                   hint=did_you_mean(var.name, store,
                                     f"the store has: {', '.join(store[:12])}{' ...' if len(store) > 12 else ''}"))
    return False


def _gaps_need_imputers(ctx: Context, settings: Settings, found: dict[str, Var], impute: dict[str, ImputerPlan],
                        metadata: StoreMetadata | None) -> None:
    """A variable the store marks as having missing values (NaN) must have an imputer: the model cannot read
    NaN, and the store's ``has_nans`` flags say so before any data is read."""
    with_nans = metadata.variables_with_nans if metadata is not None else None
    for name, var in found.items():
        if with_nans is None or name not in with_nans or name in impute:
            continue
        where = f"add `{name}: mean` to `impute`" if "impute" in settings else \
            f"add `impute = {{ {name}: mean }}` to the `variables` block"
        ctx.sink.error("E0614", f"`{name}` has missing values (NaN) in the store, but no imputer fills them", var.span,
                       hint=f"{where} (or `constant(0)`, `copy(other_variable)`); the loss ignores the filled points "
                       "with `* nan_mask`")


def _build(ctx: Context, roles: dict[str, str], found: dict[str, Var], norm: dict[str, tuple[str, Span]],
           remap: dict[str, tuple[str, Span]], bound: dict[str, tuple[str, Span]],
           impute: dict[str, ImputerPlan], store: tuple[str, ...] | None) -> VariablesResult:
    declared = list(found)

    def store_index(name: str) -> int:
        if store is not None:
            return store.index(name) if name in store else -1
        return -1 if name in COMPUTED else declared.index(name)

    plans = []
    for name in declared:
        var = found[name]
        index = store_index(name)
        plans.append(VariablePlan(
            name=name, role=roles[name], store_index=index, normaliser=norm[name][0],
            remap=remap[name][0] if name in remap else None, imputer=impute.get(name), group=var.group,
            level=var.level, bounding=bound[name][0] if name in bound else None,
            computed=name if index < 0 else None))
        ctx.mark(f"variables[{name}]", var.span)
        ctx.mark(f"variables[{name}].normaliser", norm[name][1])
        if name in remap:
            ctx.mark(f"variables[{name}].remap", remap[name][1])
        if name in bound:
            ctx.mark(f"variables[{name}].bounding", bound[name][1])
    stored = sorted((p for p in plans if p.store_index >= 0), key=lambda p: p.store_index)
    data = tuple(p.name for p in stored) + tuple(p.name for p in plans if p.store_index < 0)
    by_role = {role: tuple(n for n in data if roles[n] == role) for role in kinds.ROLES}
    indices = IndexPlan(data=data, input=by_role["prognostic"] + by_role["forcing"],
                        output=by_role["prognostic"] + by_role["diagnostic"], prognostic=by_role["prognostic"],
                        forcing=by_role["forcing"], diagnostic=by_role["diagnostic"])
    order = {n: i for i, n in enumerate(data)}
    plans.sort(key=lambda p: order[p.name])
    return VariablesResult(tuple(plans), indices, {n: (found[n].group, found[n].level) for n in found})
