"""Rebuild the trained module for inference from a training checkpoint (its plan is inside; EMA weights preferred)
or from an inference checkpoint (``metadata.json`` + ``weights.safetensors``, see ``inference_checkpoint``)."""

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


def load_training(checkpoint_or_run: str | Path
                  ) -> tuple[ForecastModule, Components, Path, dict[str, Any], dict[str, Any], bool]:
    """(module in eval mode, its components, the checkpoint path, the lineage record, the checkpoint, whether EMA
    weights were applied) of a training checkpoint or the newest one of a run directory."""
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
    return module, parts, path, lineage, checkpoint, shadow is not None


def load_trained(checkpoint_or_run: str | Path) -> tuple[ForecastModule, Components, Path, dict[str, Any]]:
    """(module in eval mode, its components, the checkpoint path, the lineage record) of a training checkpoint,
    a run directory (its newest checkpoint) or an inference checkpoint; the data module reads the plan's store,
    which ``predict`` and ``compare`` verify against."""
    from anemoic.runtime.inference.inference_checkpoint import is_inference_checkpoint, load_inference

    if not is_inference_checkpoint(checkpoint_or_run):
        return load_training(checkpoint_or_run)[:4]
    from anemoic.runtime.data.datamodule import AnemoicDataModule

    loaded = load_inference(checkpoint_or_run)
    module = loaded.module
    data = AnemoicDataModule.from_plan(module.plan)
    parts = Components(module.plan, data, loaded.graph, module.model, module.loss, module.preprocessor, module.task,
                       module.node_weights)
    return module, parts, loaded.path, module.lineage
