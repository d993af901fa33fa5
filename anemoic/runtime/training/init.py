"""``TrainingPlan.init``: a fresh run starts from the named parts of a trained checkpoint.

An autoencoder's encoder and decoder, say, under a forecaster whose processor starts fresh.  Exactly the
model tensors of the named parts (``models.encoder_processor_decoder.PARTS``) are copied, the checkpoint's EMA
weights preferred; everything else (the other parts, the normaliser's statistics of this plan's store) keeps
what this run built.  A part the checkpoint lacks, or a tensor of another shape, is refused in one message:
a partial transfer that looks complete is how Anemoi users lost weeks.
"""

from __future__ import annotations

import torch

from anemoic.plan.model import InitPlan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.models.encoder_processor_decoder import part_of
from anemoic.runtime.training.checkpoints import load_checkpoint, resolve_checkpoint
from anemoic.runtime.training.ema import EMA_STATE_PREFIX

MODEL = "model."


def _trained_weights(checkpoint: dict) -> dict[str, torch.Tensor]:
    """The checkpoint's module state, its EMA shadow (the weights a forecast uses) over the raw ones."""
    weights = dict(checkpoint.get("state_dict") or {})
    for key, state in (checkpoint.get("callbacks") or {}).items():
        if key.startswith(EMA_STATE_PREFIX) and state.get("shadow"):
            weights.update(state["shadow"])
    return weights


def load_parts(module: torch.nn.Module, init: InitPlan) -> str:
    """Copy the parts ``init`` names from its checkpoint into ``module`` (a ForecastModule); a one-line summary."""
    try:
        path = resolve_checkpoint(init.checkpoint)
    except RuntimeUserError as exc:
        raise RuntimeUserError(f"error: train.init: {str(exc).removeprefix('error: ').replace('--resume ', '')}"
                               " (train the run that writes it first)") from None
    trained = _trained_weights(load_checkpoint(path))
    own = module.state_dict()
    wanted = {name for name in own if name.startswith(MODEL) and part_of(name[len(MODEL):]) in init.parts}
    absent = sorted(name for name in wanted if name not in trained)
    if absent:
        raise RuntimeUserError(f"error: train.init: {path} has no {_names(absent)} (parts "
                               f"{', '.join(init.parts)}); was it trained with the same model?")
    reshaped = [f"{name} {tuple(trained[name].shape)} there, {tuple(own[name].shape)} here"
                for name in sorted(wanted) if trained[name].shape != own[name].shape]
    if reshaped:
        raise RuntimeUserError(f"error: train.init: the {', '.join(init.parts)} of {path} do not fit this model: "
                               f"{_names(reshaped)}; use the same graph, channels and variables, or load fewer parts")
    module.load_state_dict({name: trained[name] for name in wanted}, strict=False)
    fresh = sorted({part for name in own if name.startswith(MODEL)
                    if (part := part_of(name[len(MODEL):])) is not None and part not in init.parts})
    return (f"init: loaded the {', '.join(init.parts)} ({len(wanted)} tensors) from {path}"
            + (f"; freshly initialised: {', '.join(fresh)}" if fresh else ""))


def _names(items: list[str]) -> str:
    return ", ".join(items[:4]) + (f" and {len(items) - 4} more" if len(items) > 4 else "")
