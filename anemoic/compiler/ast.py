"""The syntax tree: frozen dataclasses, every node carrying the span it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from anemoic.compiler.diagnostics import Span


# ---- expressions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    """int, float, str, bool, a date (``kind="date"``) or a digit-led word (``kind="word"``: 6h, 2t)."""

    kind: str  # "int" | "float" | "string" | "bool" | "date" | "word"
    value: object
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class ListExpr:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Entry:
    key: str
    value: Expr
    span: Span  # the key's span


@dataclass(frozen=True)
class RecordExpr:
    entries: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True)
class Arg:
    name: str | None
    value: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    func: Expr
    args: tuple[Arg, ...]
    span: Span


@dataclass(frozen=True)
class Attribute:
    obj: Expr
    name: str
    span: Span


@dataclass(frozen=True)
class Steps:
    """``2 steps``: a count of time steps."""

    value: Expr
    span: Span


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Expr
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # "+" | "-" | "*" | "/" | "with" | "except" | ".."
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class Rollout:
    """``1 -> 12 by 1 every 2 epochs``."""

    start: Expr
    end: Expr
    by: Expr | None
    every: int | None
    span: Span


Expr = Union[Literal, Name, ListExpr, RecordExpr, Call, Attribute, Steps, Unary, BinOp, Rollout]


# ---- declarations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    key: str
    value: Expr
    span: Span  # the key's span


@dataclass(frozen=True)
class Block:
    settings: tuple[Setting, ...]
    span: Span


@dataclass(frozen=True)
class Import:
    module: str  # "std.models" or a path string "./site/lumi.anm"
    is_path: bool
    names: tuple[Name, ...]
    span: Span


@dataclass(frozen=True)
class Binding:
    """``let x = e``, ``graph g = e``, ``model m = e``, ``loss l = e``, ``dataset d = e { ... }``."""

    kind: str  # "let" | "graph" | "model" | "loss" | "dataset"
    name: Name
    value: Expr
    block: Block | None
    span: Span


@dataclass(frozen=True)
class Section:
    """A settings block: ``train { }``, ``parallel { }``, ``site lumi { }``, ``variables from d { }``,
    ``task forecast(net) { }``, ``outputs { }``, ``tracking { }`` or ``tracking = off``."""

    kind: str
    name: Name | None  # site name, task kind, variables' dataset
    ref: Name | None  # the task's model
    block: Block | None
    value: Expr | None  # ``tracking = off``
    span: Span


@dataclass(frozen=True)
class Sweep:
    name: Name
    values: Expr
    span: Span


Decl = Union[Import, Binding, Section, Sweep]


@dataclass(frozen=True)
class Module:
    file: str
    decls: tuple[Decl, ...]
