"""What a plan reads: its datasets (the model's, a limited-area model's boundary, a spatial downscaler's coarse
source), their periods, and the variables in tensor order.  Re-exported by ``anemoic.plan.model``."""

from __future__ import annotations

from dataclasses import dataclass, field

from anemoic.plan.kinds import (
    Bounding, ComputedForcing, ImputerKind, ImputerStatistic, Interpolation, Normaliser, Remap, Role,
)
from anemoic.plan.versions import ADDED_IN_SCHEMA


@dataclass(frozen=True)
class DateRangePlan:
    """An inclusive range of valid times, ISO-8601 without time zone (UTC)."""

    start: str
    end: str


@dataclass(frozen=True)
class DatasetPlan:
    name: str
    path: str
    fingerprint: str  # sha256 of the store's metadata (attributes, shapes, dates)
    frequency_s: int
    grid_size: int
    ensemble_size: int
    train: DateRangePlan
    validate: DateRangePlan
    test: DateRangePlan | None = None


@dataclass(frozen=True)
class BoundaryPlan:
    """A limited-area model's surroundings (anemoi's cut-out): the points of ``dataset`` farther than
    ``margin_km`` from every point of the region (``Plan.dataset``) follow the region's points on the model's
    grid (``anemoic.graphs.cutout``).  ``forced``: a limited-area model, whose task's ``output_mask`` leaves them
    out of the loss, the metrics and the forecasts, and whose runtime overwrites them with this dataset's values at
    every rollout step; not forced: a stretched-grid model, which forecasts and scores every point of both datasets
    (its task has no ``output_mask``; a ``dataset_weights`` scaler may share the loss between them)."""

    dataset: DatasetPlan  # time-aligned with Plan.dataset: its frequency divides the timestep, periods inside it
    # one per Plan.variables entry, same name, role and order: where this store holds it and how it is normalised
    variables: tuple[VariablePlan, ...]
    margin_km: float = 0.0
    forced: bool = field(default=True, metadata=ADDED_IN_SCHEMA)  # False: a stretched-grid model


@dataclass(frozen=True)
class SourcePlan:
    """A spatial downscaler's coarse input: ``dataset`` at the same valid times as ``Plan.dataset`` (the fine grid,
    the target).  The model's grid is this dataset's points, then the fine dataset's
    (``anemoic.graphs.downscale``): the encoder reads the coarse points, the decoder writes the fine ones, and the
    coarse field ``interpolation``-ed onto the fine grid is the residual base the network's output is added to."""

    dataset: DatasetPlan  # its frequency divides Plan.dataset's; every period of Plan.dataset lies inside its dates
    # one per Plan.variables entry, same name, role and order: where this store holds it and how it is normalised
    # (with this store's statistics)
    variables: tuple[VariablePlan, ...]
    interpolation: Interpolation = "bilinear"


@dataclass(frozen=True)
class ImputerPlan:
    kind: ImputerKind  # "statistic" (mean/minimum/maximum of the store) | "constant" | "copy"
    statistic: ImputerStatistic | None = None  # for kind="statistic"
    value: float | None = None  # for kind="constant"
    source: str | None = None  # for kind="copy": the variable whose values fill the gaps


@dataclass(frozen=True)
class VariablePlan:
    """One variable as the model sees it."""

    name: str  # e.g. "2t", "z_500"
    role: Role
    store_index: int  # index along the store's variable axis; -1 for computed forcings
    normaliser: Normaliser
    remap: Remap | None = None  # applied before normalising
    imputer: ImputerPlan | None = None
    group: str | None = None  # pressure-level group ("z" for "z_500"), None for surface
    level: int | None = None  # pressure level in hPa
    bounding: Bounding | None = None  # output bounding
    computed: ComputedForcing | None = None  # a forcing computed from the grid and the date


@dataclass(frozen=True)
class IndexPlan:
    """Ordered name lists; position in a list is the index in that tensor."""

    data: tuple[str, ...]  # variables loaded from the store, in load order
    input: tuple[str, ...]  # model input channels: prognostic + forcing
    output: tuple[str, ...]  # model output channels: prognostic + diagnostic
    prognostic: tuple[str, ...]
    forcing: tuple[str, ...]
    diagnostic: tuple[str, ...]
