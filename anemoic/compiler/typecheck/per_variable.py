"""Per-variable settings of the `variables` block: normalisers, remaps and bounds (``default except { name:
kind }``, keys may be pressure-level groups) and imputers (``{ sst: mean, tp: constant(0) }``)."""

from __future__ import annotations

from typing import Protocol

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Span, did_you_mean
from anemoic.compiler.typecheck.context import Context
from anemoic.plan import kinds
from anemoic.plan.model import ImputerPlan

COMPUTED = kinds.COMPUTED_FORCINGS


def name_of(item: v.Value) -> str | None:
    """A variable's name as written: ``msl``, ``2t`` or ``"sst"``."""
    if isinstance(item, v.Symbol):
        return item.name
    if isinstance(item, v.Word):
        return item.text
    if isinstance(item, v.Str):
        return item.value
    return None


class Var(Protocol):
    name: str
    span: Span
    group: str | None


def per_variable(ctx: Context, settings: dict[str, v.Value], key: str, choices: tuple[str, ...],
                 found: dict[str, Var], required: bool = False) -> dict[str, tuple[str, Span]] | None:
    """``default except { name: kind }`` or ``{ name: kind }``; keys may be pressure-level groups."""
    if key not in settings:
        if required and found:
            first = next(iter(found.values()))
            ctx.sink.error("E0607", "the variables have no normaliser", first.span,
                           hint="add `normalise = mean_std except { tp: std }` (or `none` for no scaling)")
            return None
        return {}
    value = settings[key]
    default, record = None, None
    if isinstance(value, v.OpV) and value.op == "except" and isinstance(value.right, v.RecordV):
        default, record = value.left, value.right
    elif isinstance(value, v.RecordV):
        record = value
    else:
        default = value
    default_kind = coerce.choice(default, ctx.sink, f"`{key}`", choices) if default is not None else None
    if default is not None and default_kind is None:
        return None
    out: dict[str, tuple[str, Span]] = {}
    by_group: dict[str, list[str]] = {}
    for var in found.values():
        if var.group:
            by_group.setdefault(var.group, []).append(var.name)
    ok = True
    for name, key_span, item in record.entries if record else ():
        kind = coerce.choice(item, ctx.sink, f"`{name}` in `{key}`", choices)
        targets = [name] if name in found else by_group.get(name, [])
        if not targets:
            ctx.sink.error("E0605", f"`{name}` in `{key}` is not one of the listed variables", key_span,
                           hint=did_you_mean(name, [*found, *by_group], "list it under a role first"))
            ok = False
            continue
        for target in targets:
            if target in out:
                ctx.sink.error("E0606", f"`{target}` gets two different `{key}` settings", key_span,
                               notes=(("also set here", out[target][1]),),
                               hint="give each variable exactly one; a group key covers all its levels")
                ok = False
            elif kind is not None:
                out[target] = (kind, key_span)
        ok = ok and kind is not None
    if not ok:
        return None
    if default_kind is not None:
        for name in found:  # computed forcings lie in [-1, 1] and have no statistics: a default skips them
            kind_here = "none" if key == "normalise" and name in COMPUTED else default_kind
            out.setdefault(name, (kind_here, default.span))  # type: ignore[union-attr]
    elif required:
        lacking = [name for name in found if name not in out]
        if lacking:
            shown = ", ".join(f"`{n}`" for n in lacking[:6]) + (f" and {len(lacking) - 6} more" if len(lacking) > 6
                                                              else "")
            ctx.sink.error("E0607", f"{len(lacking)} variable{'s' * (len(lacking) != 1)} "
                           f"{'have' if len(lacking) != 1 else 'has'} no normaliser: {shown}", value.span,
                           hint=f"give a default for the rest: `normalise = mean_std except {{ ... }}` "
                           "(or `none` for no scaling)")
            ok = False
    return out if ok else None


def imputers(ctx: Context, settings: dict[str, v.Value], found: dict[str, Var]) -> dict[str, ImputerPlan] | None:
    value = settings.get("impute")
    if value is None:
        return {}
    if not isinstance(value, v.RecordV):
        coerce.wrong(ctx.sink, "E0613", "`impute`", "a record such as `{ sst: mean, tp: constant(0) }`", value)
        return None
    out: dict[str, ImputerPlan] = {}
    for name, key_span, item in value.entries:
        if name not in found:
            ctx.sink.error("E0605", f"`{name}` in `impute` is not one of the listed variables", key_span,
                           hint=did_you_mean(name, list(found), "list it under a role first"))
            continue
        if isinstance(item, v.ComponentV) and item.builtin == "constant" and item.get("value") is not None:
            number = coerce.number(item.get("value"), ctx.sink, "`constant`")  # type: ignore[arg-type]
            if number is not None:
                out[name] = ImputerPlan("constant", value=number)
        elif isinstance(item, v.ComponentV) and item.builtin == "copy" and item.get("source") is not None:
            source = name_of(item.get("source"))  # type: ignore[arg-type]
            if source not in found:
                ctx.sink.error("E0605", f"`copy` needs one of the listed variables, found `{source}`", item.span)
            else:
                out[name] = ImputerPlan("copy", source=source)
        else:
            kind = coerce.choice(item, ctx.sink, f"`{name}` in `impute`", (*kinds.IMPUTER_STATISTICS, "constant", "copy"))
            if kind in kinds.IMPUTER_STATISTICS:
                out[name] = ImputerPlan("statistic", statistic=kind)
            elif kind is not None:
                ctx.sink.error("E0613", f"`{kind}` needs an argument", item.span,
                               hint="write `constant(0)` or `copy(other_variable)`")
    return out if len(out) == len(value.entries) else None
