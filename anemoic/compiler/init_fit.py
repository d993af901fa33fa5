"""Does the checkpoint a plan's ``train.init`` names fit the model, part by part?  (after lowering, like the
estimates: it compares the lowered plan with the plan stored in the checkpoint)

Checked when the checkpoint is already there and readable without torch (``plan.checkpoint_plan``);
otherwise the runtime checks every tensor's shape when the run starts and refuses in one line.  Only
differences that certainly change a loaded tensor's shape are errors here (the runtime compares shapes
exactly, so nothing that slips past this check loads wrongly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anemoic.compiler.data_grid import combined_grid, model_grid_size
from anemoic.compiler.diagnostics import Diagnostic, span_for
from anemoic.plan.checkpoint_plan import newest_checkpoint, read_checkpoint_plan
from anemoic.plan.model import Plan
from anemoic.plan.windows import output_steps

HINT = "use the checkpoint's graph, channels and variables for the parts you load, or load fewer parts"


def _count(steps: int, variables: int) -> str:
    return f"{steps} step(s) x {variables} variables"


def _differences(part: str, old: dict[str, Any], plan: Plan) -> list[str]:
    """What makes ``part`` of the checkpoint's model (``old``, its plan) a different shape from this plan's."""
    model, oldm = plan.model, old["model"]
    found = []
    if oldm["channels"] != model.channels:
        found.append(f"{oldm['channels']} channels there, {model.channels} here")
    if part in ("encoder", "decoder") and oldm[part] != getattr(model, part):
        found.append(f"a {oldm[part]} {part} there, a {getattr(model, part)} one here")
    if oldm["mlp_hidden_ratio"] != model.mlp_hidden_ratio:
        found.append(f"MLP ratio {oldm['mlp_hidden_ratio']} there, {model.mlp_hidden_ratio} here")
    if part == "encoder":
        steps, inputs = old["task"]["multistep_input"], len(old["indices"]["input"])
        if (steps, inputs) != (plan.task.multistep_input, len(plan.indices.input)):
            found.append(f"inputs of {_count(steps, inputs)} there, "
                         f"{_count(plan.task.multistep_input, len(plan.indices.input))} here")
        there, here = _old_grid_size(old), model_grid_size(plan)[0]
        if there != here:
            found.append(f"{there} grid points there, {here} here")
        if old["graph"]["hidden"] != _plain(plan.graph.hidden):
            found.append("another hidden mesh")
        for size in ("trainable_data_size", "trainable_hidden_size"):
            if oldm[size] != getattr(model, size):
                found.append(f"{size} {oldm[size]} there, {getattr(model, size)} here")
    if part == "decoder" and len(old["indices"]["output"]) != len(plan.indices.output):
        found.append(f"{len(old['indices']['output'])} output variables there, {len(plan.indices.output)} here")
    if part == "decoder":  # a downscaler's output projection has a row block per target
        steps = len(old["task"].get("target_offsets", ())) if old["task"]["kind"] == "temporal_downscaler" else 1
        if steps != output_steps(plan.task):
            found.append(f"{steps} output state(s) per pass there, {output_steps(plan.task)} here")
    if part == "processor":
        if old["task"]["kind"] == "autoencoder":
            found.append("an autoencoder has no processor")
        elif oldm["processor"] != model.processor:
            found.append(f"a {oldm['processor']} processor there, a {model.processor} one here")
        elif oldm["layers"] < model.layers:
            found.append(f"{oldm['layers']} processor layers there, {model.layers} here")
    return found


def _old_grid_size(old: dict[str, Any]) -> int:
    """The checkpoint's model grid: its dataset's, or a limited-area model's cut-out (read from its stores)."""
    boundary = old.get("boundary")
    if not boundary:
        return int(old["dataset"]["grid_size"])
    try:
        return len(combined_grid(old["dataset"]["path"], boundary["dataset"]["path"], boundary["margin_km"]).lat)
    except Exception:  # its stores are gone: the same bound the estimates use
        return int(old["dataset"]["grid_size"]) + int(boundary["dataset"]["grid_size"])


def _plain(value: object) -> Any:
    import dataclasses
    import json

    return json.loads(json.dumps(dataclasses.asdict(value)))  # type: ignore[call-overload]


def init_fit(plan: Plan) -> list[Diagnostic]:
    """E0827 for each named part of the ``init`` checkpoint that cannot fit this plan's model."""
    init = plan.training.init
    if init is None:
        return []
    path = newest_checkpoint(Path(init.checkpoint))
    old = read_checkpoint_plan(path) if path is not None else None
    if old is None:  # not trained yet, or not readable here: the run checks it when it starts
        return []
    out = []
    for part in init.parts:
        try:
            found = _differences(part, old, plan)
        except (KeyError, TypeError):  # a plan of another anemoic: the runtime's shape check decides
            return []
        if found:
            out.append(Diagnostic("E0827", f"the {part} of the checkpoint does not fit this model: "
                                  f"{'; '.join(found)}", span_for(plan.source_map, "training.init.parts")
                                  or span_for(plan.source_map, "training.init"), HINT))
    return out
