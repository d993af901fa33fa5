"""Expressions -> values: names resolved, components called, numbers folded.

What a value *means* (a duration, a variable set, a loss) is decided later by the
checker that consumes it; this module only knows names and the registry."""

from __future__ import annotations

import datetime

from anemoic.compiler import ast
from anemoic.compiler import values as v
from anemoic.compiler.builtins import REGISTRY
from anemoic.compiler.diagnostics import Sink, did_you_mean
from anemoic.compiler.modules import Program

_IN_PROGRESS = object()


class Evaluator:
    def __init__(self, program: Program, sink: Sink, overrides: dict[tuple[str, str], v.Value] | None = None):
        self.program = program
        self.sink = sink
        self.overrides = overrides or {}
        self.memo: dict[tuple[str, str], object] = {}

    # ---- names
    def lookup(self, module_key: str, name: str, node: ast.Name) -> v.Value | None:
        module = self.program.modules[module_key]
        if name in module.broken:
            return None  # its import failed and was reported
        if name in module.bindings:
            return self.binding(module_key, name)
        if name in module.imported:
            key, target, _ = module.imported[name]
            return self.binding(key, target)
        if name in module.module_aliases:
            return v.ModuleV(name, module.module_aliases[name][0], node.span)
        if name in REGISTRY:
            return v.ComponentV(name, (), (), (), node.span)
        return v.Symbol(name, node.span)

    def known_names(self, module_key: str) -> list[str]:
        module = self.program.modules[module_key]
        return [*module.bindings, *module.imported, *module.module_aliases, *REGISTRY]

    def binding(self, module_key: str, name: str) -> v.Value | None:
        key = (module_key, name)
        if key in self.overrides:
            return self.overrides[key]
        state = self.memo.get(key)
        if state is _IN_PROGRESS:
            decl = self.program.modules[module_key].bindings[name]
            self.sink.error("E0203", f"`{name}` is defined in terms of itself", decl.name.span,
                            hint="a `let` cannot refer to itself, directly or through other names")
            return None
        if key in self.memo:
            return state  # type: ignore[return-value]
        self.memo[key] = _IN_PROGRESS
        decl = self.program.modules[module_key].bindings[name]
        result = self.evaluate_binding(module_key, decl)
        self.memo[key] = result
        return result

    def evaluate_binding(self, module_key: str, decl: ast.Binding) -> v.Value | None:
        value = self.eval(decl.value, module_key)
        if value is None:
            return None
        if decl.kind == "dataset":
            settings, failed = [], []
            for s in decl.block.settings if decl.block else ():
                x = self.eval(s.value, module_key)
                if x is None:
                    failed.append(s.key)
                else:
                    settings.append((s.key, s.span, x))
            return v.DatasetV(decl.name.id, value, tuple(settings), decl.name.span, tuple(failed))
        if decl.kind in ("graph", "model", "loss"):
            return v.NamedV(decl.kind, decl.name.id, value, decl.name.span)
        return value

    # ---- expressions
    def eval(self, node: ast.Expr, module_key: str) -> v.Value | None:
        try:
            return self._eval(node, module_key)
        except RecursionError:
            self.sink.error("E0004", "this expression is too deeply nested to check", node.span,
                            hint="split the expression into `let` bindings")
            return None

    def _eval(self, node: ast.Expr, mk: str) -> v.Value | None:
        if isinstance(node, ast.Literal):
            return self._literal(node)
        if isinstance(node, ast.Name):
            return self.lookup(mk, node.id, node)
        if isinstance(node, ast.ListExpr):
            items = [self._eval(i, mk) for i in node.items]
            return v.ListV(tuple(i for i in items if i is not None), node.span)
        if isinstance(node, ast.RecordExpr):
            return self._record(node, mk)
        if isinstance(node, ast.Call):
            return self._call(node, mk)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, mk)
        if isinstance(node, ast.Steps):
            count = self._eval(node.value, mk)
            return v.StepsV(count, node.span) if count is not None else None
        if isinstance(node, ast.Unary):
            operand = self._eval(node.operand, mk)
            if isinstance(operand, v.Num) and not isinstance(operand.value, bool):
                return v.Num(-operand.value, node.span)
            if operand is not None:
                self.sink.error("E0210", f"cannot negate {v.describe(operand)}", node.span)
            return None
        if isinstance(node, ast.Rollout):
            start, end = self._eval(node.start, mk), self._eval(node.end, mk)
            by = self._eval(node.by, mk) if node.by is not None else None
            if start is None or end is None:
                return None
            return v.RolloutV(start, end, by, node.every, node.span)
        return self._binop(node, mk)

    def _literal(self, node: ast.Literal) -> v.Value | None:
        if node.kind in ("int", "float"):
            return v.Num(node.value, node.span)  # type: ignore[arg-type]
        if node.kind == "string":
            return v.Str(str(node.value), node.span)
        if node.kind == "bool":
            return v.Bool(bool(node.value), node.span)
        if node.kind == "word":
            return v.Word(str(node.value), node.span)
        text = str(node.value)
        try:
            return v.Date(datetime.datetime.fromisoformat(text), "T" in text, node.span)
        except ValueError:
            self.sink.error("E0102", f"`{text}` is not a real date", node.span,
                            hint="dates are written YYYY-MM-DD or YYYY-MM-DDTHH:MM, e.g. 2019-01-01T06:00")
            return None

    def _record(self, node: ast.RecordExpr, mk: str) -> v.Value:
        seen: dict[str, ast.Entry] = {}
        entries = []
        for entry in node.entries:
            if entry.key in seen:
                self.sink.error("E0202", f"`{entry.key}` appears twice in this record", entry.span,
                                notes=(("first given here", seen[entry.key].span),),
                                hint="give each key once")
                continue
            seen[entry.key] = entry
            value = self._eval(entry.value, mk)
            if value is not None:
                entries.append((entry.key, entry.span, value))
        return v.RecordV(tuple(entries), node.span)

    def _attribute(self, node: ast.Attribute, mk: str) -> v.Value | None:
        obj = self._eval(node.obj, mk)
        if obj is None:
            return None
        if isinstance(obj, v.Symbol):
            self.sink.error("E0207", f"`{obj.name}` is not defined", obj.span,
                            hint=did_you_mean(obj.name, self.known_names(mk), f"import it first: `import std.{obj.name}`"))
            return None
        if not isinstance(obj, v.ModuleV):
            self.sink.error("E0207", f"{v.describe(obj)} has no parts to select with `.{node.name}`", node.span,
                            hint="`.` selects a definition from an imported module, e.g. `scalers.general_variable`")
            return None
        target = self.program.modules[obj.key]
        if node.name not in target.bindings:
            self.sink.error("E0207", f"the module `{obj.name}` has no definition named `{node.name}`", node.span,
                            hint=did_you_mean(node.name, target.bindings, f"it defines: {', '.join(sorted(target.bindings))}",
                                              prefix=f"{obj.name}."))
            return None
        return self.binding(obj.key, node.name)

    def _call(self, node: ast.Call, mk: str) -> v.Value | None:
        func = self._eval(node.func, mk)
        if func is None:
            return None
        if isinstance(func, v.NamedV):
            func = func.value
        if not isinstance(func, v.ComponentV):
            if isinstance(func, v.Symbol):
                self.sink.error("E0201", f"unknown component `{func.name}`", func.span,
                                hint=did_you_mean(func.name, self.known_names(mk),
                                                  "components come from the standard library or an `import`"))
            else:
                self.sink.error("E0204", f"{v.describe(func)} cannot be called with `( )`", node.span)
            return None
        return self.apply(func, node, mk)

    def apply(self, func: v.ComponentV, node: ast.Call, mk: str) -> v.Value | None:
        builtin = REGISTRY[func.builtin]
        args = dict(func.args)
        rest = list(func.rest)
        extra = {k: (s, x) for k, s, x in func.extra}
        positional = [p.name for p in builtin.params]
        seen: set[str] = set()
        new_rest: list[v.Value] = []
        index = 0
        ok = True
        for arg in node.args:
            value = self._eval(arg.value, mk)
            if value is None:
                ok = False
                continue
            if arg.name is None:
                if index < len(positional) and not builtin.var_positional:
                    args[positional[index]] = value
                    seen.add(positional[index])
                    index += 1
                elif builtin.var_positional:
                    new_rest.append(value)
                else:
                    self.sink.error("E0205", f"`{builtin.name}` takes at most {len(positional)} positional "
                                    f"argument{'s' * (len(positional) != 1)}", arg.span,
                                    hint=_signature_hint(builtin.name))
                    ok = False
                continue
            if arg.name in seen:
                self.sink.error("E0202", f"`{arg.name}` is given twice in this call", arg.span)
                ok = False
            elif builtin.param(arg.name) is not None:
                args[arg.name] = value
            elif builtin.var_keyword:
                extra[arg.name] = (arg.span, value)
            else:
                self.sink.error("E0206", f"`{arg.name}` is not a setting of `{builtin.name}`", arg.span,
                                hint=did_you_mean(arg.name, positional, _signature_hint(builtin.name)))
                ok = False
            seen.add(arg.name)
        if new_rest:
            rest = new_rest
        if not ok:
            return None
        return v.ComponentV(func.builtin, tuple(args.items()), tuple(rest),
                            tuple((k, s, x) for k, (s, x) in extra.items()), node.span)

    def _binop(self, node: ast.BinOp, mk: str) -> v.Value | None:
        left, right = self._eval(node.left, mk), self._eval(node.right, mk)
        if left is None or right is None:
            return None
        if node.op == "..":
            return v.RangeV(left, right, node.span)
        if node.op in "+-*/" and isinstance(left, v.Num) and isinstance(right, v.Num):
            a, b = left.value, right.value
            if node.op == "/" and b == 0:
                self.sink.error("E0210", "division by zero", node.span)
                return None
            result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[node.op]()
            return v.Num(result, node.span)
        return v.OpV(node.op, left, right, node.span)


def _signature_hint(name: str) -> str:
    builtin = REGISTRY[name]
    parts = [p.name for p in builtin.params]
    if builtin.var_positional:
        parts.insert(0, f"{builtin.var_positional}...")
    if builtin.var_keyword:
        parts.append("name = weight...")
    return f"`{name}` takes: {', '.join(parts) or 'no arguments'}"
