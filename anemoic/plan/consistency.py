"""The rules between a plan's datasets and its task, checked whenever a ``Plan`` is constructed (read, built or
edited by hand): a limited-area model and its output mask exist together or not at all, so a boundary that is never
forced (anemoi issue 150) cannot be written down; a stretched-grid model (a boundary that is not forced) forecasts
every point and has no output mask; only a spatial downscaler reads a coarse source.  A second dataset always
carries the model's variables, with the same roles, in the same order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from anemoic.plan.errors import PlanError

if TYPE_CHECKING:
    from anemoic.plan.model import Plan, VariablePlan


def check_datasets(plan: Plan) -> None:
    """Raise ``PlanError`` saying which rule the plan breaks."""
    if (plan.source is not None) != (plan.task.kind == "spatial_downscaler"):
        raise PlanError("a spatial downscaler reads a coarse `source` dataset, and only it does: the plan's task "
                        f"is a {plan.task.kind} {'with' if plan.source is not None else 'without'} one")
    if plan.source is not None:
        _same_variables("the source dataset's variables differ from the target's", plan.variables,
                        plan.source.variables)
    mask = plan.task.output_mask
    if plan.boundary is None:
        if mask is not None:
            raise PlanError(f"the plan masks its output to `{mask}` but has no boundary dataset to force the rest")
        return
    if plan.boundary.forced and mask != plan.dataset.name:
        raise PlanError(f"the plan has the boundary dataset `{plan.boundary.dataset.name}` but its output "
                        f"mask is {f'`{mask}`' if mask else 'missing'}, not the region `{plan.dataset.name}`")
    if not plan.boundary.forced and mask is not None:
        raise PlanError(f"the plan's stretched grid forecasts `{plan.boundary.dataset.name}` too (its boundary "
                        f"is not forced) but its output mask is `{mask}`: a stretched grid has none")
    _same_variables("the boundary dataset's variables differ from the region's", plan.variables,
                    plan.boundary.variables)


def _same_variables(problem: str, model: Sequence[VariablePlan], other: Sequence[VariablePlan]) -> None:
    inner = [(x.name, x.role) for x in model]
    outer = [(x.name, x.role) for x in other]
    if inner != outer:
        raise PlanError(f"{problem}: {outer} instead of {inner}")
