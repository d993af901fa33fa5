"""Reading a component's arguments by the types its registry entry declares."""

from __future__ import annotations

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.builtins import REGISTRY, REQUIRED
from anemoic.compiler.diagnostics import did_you_mean
from anemoic.compiler.typecheck.context import Context

_MISSING = object()


def argument(ctx: Context, component: v.ComponentV, name: str, field: str | None = None) -> object:
    """The argument converted to its declared type, or its default; ``_MISSING`` after a diagnostic.

    ``field`` is the plan field it sets, recorded in the source map."""
    param = REGISTRY[component.builtin].param(name)
    assert param is not None, name
    value = component.get(name)
    if value is None:
        if param.default is REQUIRED:
            ctx.sink.error("E0211", f"`{component.builtin}` needs `{name}`", component.span,
                           hint=f"add `{name} = ...` to the call")
            return _MISSING
        return param.default
    if field:
        ctx.mark(field, value)
    what = f"`{name}` of `{component.builtin}`"
    kind = param.type
    if kind == "int":
        result: object = coerce.integer(value, ctx.sink, what, minimum=0)
    elif kind == "float":
        result = coerce.number(value, ctx.sink, what)
    elif kind == "bool":
        result = coerce.boolean(value, ctx.sink, what)
    elif kind == "string":
        result = coerce.string(value, ctx.sink, what)
    elif kind.startswith("enum:"):
        result = coerce.choice(value, ctx.sink, what, tuple(kind[5:].split(",")))
    elif kind == "float_list":
        result = coerce.number_list(value, ctx.sink, what)
    elif kind == "int_list":
        result = coerce.number_list(value, ctx.sink, what, whole=True)
    else:
        return value  # structured arguments are read by their own checker
    return _MISSING if result is None else result


def failed(*items: object) -> bool:
    return any(item is _MISSING for item in items)


def component(ctx: Context, value: v.Value | None, category: str, what: str, example: str) -> v.ComponentV | None:
    """``value`` as a registry component of ``category`` (a NamedV is unwrapped)."""
    if isinstance(value, v.NamedV):
        value = value.value
    if isinstance(value, v.ComponentV) and REGISTRY[value.builtin].category == category:
        return value
    if value is None:
        return None
    if isinstance(value, v.Symbol):
        names = [b.name for b in REGISTRY.values() if b.category == category]
        ctx.sink.error("E0201", f"unknown {category} `{value.name}`", value.span,
                       hint=did_you_mean(value.name, names, f"choose one of {', '.join(names)}"))
        return None
    coerce.wrong(ctx.sink, "E0212", what, f"a {category} such as `{example}`", value)
    return None
