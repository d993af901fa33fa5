"""Rebuild the trained module from a checkpoint alone (its plan is inside), EMA weights preferred."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from anemoic.plan.model import Plan
from anemoic.runtime.training.build import Components, build_components
from anemoic.runtime.training.checkpoints import load_checkpoint, resolve_checkpoint
from anemoic.runtime.training.ema import EMA_STATE_PREFIX
from anemoic.runtime.training.lineage import lineage_of, plan_of
from anemoic.runtime.training.module import ForecastModule


def _ema_shadow(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    for key, state in (checkpoint.get("callbacks") or {}).items():
        if key.startswith(EMA_STATE_PREFIX) and state.get("shadow"):
            return state["shadow"]
    return None


def load_trained(checkpoint_or_run: str | Path) -> tuple[ForecastModule, Components, Path, dict[str, Any]]:
    """(module in eval mode, its components, the checkpoint path, the lineage record)."""
    path = resolve_checkpoint(checkpoint_or_run)
    checkpoint = load_checkpoint(path)
    plan: Plan = plan_of(checkpoint, str(path))
    lineage = lineage_of(checkpoint, str(path))
    parts = build_components(plan)
    module = ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                            total_steps=1, lineage=lineage)
    module.load_state_dict(checkpoint["state_dict"])
    shadow = _ema_shadow(checkpoint)
    if shadow is not None:
        parameters = dict(module.named_parameters())
        with torch.no_grad():
            for name, value in shadow.items():
                parameters[name].copy_(value)
    module.eval()
    return module, parts, path, lineage
