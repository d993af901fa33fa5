"""``train { init = from_checkpoint("runs/ae", parts = [encoder, decoder]) }``: the weights a fresh run starts from.

The runtime reads the checkpoint when the run starts (the run that writes it, an autoencoder say, is often
built at the same time as the run that reads it), so here only the call is checked: the path, resolved
against the folder of the file that wrote it as a store's path is, and the parts (``kinds.MODEL_PARTS``).
"""

from __future__ import annotations

import os
from pathlib import Path

from anemoic.compiler import coerce
from anemoic.compiler import values as v
from anemoic.compiler.typecheck.arguments import argument, component, failed
from anemoic.compiler.typecheck.context import Context
from anemoic.plan import kinds
from anemoic.plan.model import InitPlan

EXAMPLE = 'from_checkpoint("runs/autoencoder", parts = [encoder, decoder])'


def check_init(ctx: Context, value: v.Value | None, directories: dict[str, Path]) -> tuple[bool, InitPlan | None]:
    """(checked without a diagnostic, the plan's ``training.init``: None when no ``init`` is given)."""
    if value is None:
        return True, None
    ctx.mark("training.init", value)
    call = component(ctx, value, "init", "`init`", EXAMPLE)
    if call is None:
        return False, None
    path = argument(ctx, call, "path", "training.init.checkpoint")
    parts = _parts(ctx, call.get("parts"))
    if failed(path) or parts is None:
        return False, None
    raw = call.get("path")
    assert raw is not None and isinstance(path, str)
    directory = directories.get(raw.span.file, Path.cwd())  # the folder of the file that wrote the path
    resolved = os.path.normpath(path if os.path.isabs(path) else str(directory / path))
    return True, InitPlan(resolved, parts)


def _parts(ctx: Context, value: v.Value | None) -> tuple[str, ...] | None:
    """``[encoder, decoder]``: a non-empty list of model parts, each once, in the vocabulary's order."""
    if value is None:
        return kinds.MODEL_PARTS
    ctx.mark("training.init.parts", value)
    items = value.items if isinstance(value, v.ListV) else (value,)
    if not items:
        ctx.sink.error("E0105", "`parts` of `from_checkpoint` names no part of the model", value.span,
                       hint=f"name one or more of {', '.join(kinds.MODEL_PARTS)}")
        return None
    chosen: list[str | None] = []
    for item in items:
        part = coerce.choice(item, ctx.sink, "`parts` of `from_checkpoint`", kinds.MODEL_PARTS)
        if part is not None and part in chosen:
            ctx.sink.error("E0202", f"the part `{part}` is named twice", item.span, hint="name each part once")
            part = None
        chosen.append(part)
    if None in chosen:
        return None
    return tuple(p for p in kinds.MODEL_PARTS if p in chosen)
