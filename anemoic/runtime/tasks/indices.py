"""Integer positions that route variables between the data, input and output tensors.

Anemoi's routing: forcings are inputs only (taken from the batch at every
step, never predicted), diagnostics are outputs only (never fed back),
prognostic variables are both.  Computed once from the plan's ordered name lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from anemoic.plan.model import IndexPlan


def _positions(names: tuple[str, ...], within: tuple[str, ...]) -> torch.Tensor:
    return torch.tensor([within.index(n) for n in names], dtype=torch.long)


@dataclass(frozen=True)
class RoutingIndices:
    input_from_data: torch.Tensor  # data channel for each model input channel
    output_from_data: torch.Tensor  # data channel for each model output channel (the targets)
    prognostic_in_input: torch.Tensor
    prognostic_in_output: torch.Tensor
    forcing_in_input: torch.Tensor
    forcing_from_data: torch.Tensor
    prognostic_from_data: torch.Tensor  # data channel of each prognostic variable (a boundary's forcing)

    @classmethod
    def from_plan(cls, indices: IndexPlan) -> "RoutingIndices":
        return cls(
            input_from_data=_positions(indices.input, indices.data),
            output_from_data=_positions(indices.output, indices.data),
            prognostic_in_input=_positions(indices.prognostic, indices.input),
            prognostic_in_output=_positions(indices.prognostic, indices.output),
            forcing_in_input=_positions(indices.forcing, indices.input),
            forcing_from_data=_positions(indices.forcing, indices.data),
            prognostic_from_data=_positions(indices.prognostic, indices.data),
        )

    def to(self, device: torch.device) -> "RoutingIndices":
        return RoutingIndices(**{k: v.to(device) for k, v in self.__dict__.items()})
