"""``--resume``: may this checkpoint continue training under this plan?

The plan engineer's ``diff_plans`` classes every difference: only resumable
ones allow an exact resume (optimiser, schedule, loops and data position
restored); warm-startable ones start a new run from the weights; an
incompatible one is refused with the differences named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from anemoic.plan.diff import Impact, diff_plans, worst_impact
from anemoic.plan.diff_text import render_differences
from anemoic.plan.model import Plan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.lineage import lineage_of, plan_of


@dataclass(frozen=True)
class ResumeDecision:
    checkpoint: Path
    mode: str  # "resume" (full state) | "warm_start" (weights only, a new run)
    parent_plan_hash: str
    notes: str  # the differences, rendered; empty when the plans are the same


def decide_resume(checkpoint_path: Path, checkpoint: dict, plan: Plan, plan_label: str) -> ResumeDecision:
    where = str(checkpoint_path)
    old = plan_of(checkpoint, where)
    differences = diff_plans(old, plan)
    worst = worst_impact(differences)
    notes = render_differences(differences, f"the checkpoint's plan", plan_label) if differences else ""
    if worst is Impact.INCOMPATIBLE:
        raise RuntimeUserError(
            f"error: cannot resume from {where}: its plan is incompatible with {plan_label}\n{notes}\n"
            "hint: drop --resume to train from scratch, or resume with the plan the checkpoint was trained from"
        )
    mode = "warm_start" if worst is Impact.WARM_STARTABLE else "resume"
    return ResumeDecision(checkpoint_path, mode, lineage_of(checkpoint, where)["plan_hash"], notes)


def warm_start(module: torch.nn.Module, state_dict: dict[str, torch.Tensor]) -> str:
    """Load every tensor whose name and shape still fit; say out loud what was not loaded.

    Anemoi users lost weeks to transfer learning that skipped weights silently; here the
    summary names each tensor that was left at its fresh initialisation.
    """
    own = module.state_dict()
    fitting = {k: v for k, v in state_dict.items() if k in own and own[k].shape == v.shape}
    skipped = sorted(k for k in own if k not in fitting)
    module.load_state_dict(fitting, strict=False)
    summary = f"warm start: loaded {len(fitting)} of {len(own)} tensors from the checkpoint"
    if skipped:
        shown = ", ".join(skipped[:8]) + (f" and {len(skipped) - 8} more" if len(skipped) > 8 else "")
        summary += f"; freshly initialised (absent or reshaped): {shown}"
    return summary
