"""The one vocabulary: every kind a plan can name, declared once.

The plan model types its fields with these ``Literal`` types, so the generated JSON Schema enforces
them; the compiler's registry, the runtime's builders and the estimator tables are derived from
them or checked against them by ``tests/test_vocabulary.py``, which fails when one side gains a kind
another lacks.  Adding a kind: add it here, then wherever that test points.

A kind is listed here only when the runtime executes it: what the language names but the runtime
cannot run yet is refused by the compiler (``anemoic.compiler.typecheck.unsupported``), never by
``exec`` on the cluster.
"""

from __future__ import annotations

from typing import Literal, get_args

# -- tasks ----------------------------------------------------------------------------------------
TaskKind = Literal["forecaster", "temporal_downscaler", "autoencoder", "spatial_downscaler"]  # what is predicted
MethodKind = Literal["deterministic", "ensemble"]  # how it is trained (docs/language.md: task x method)
NoiseKind = Literal["inject", "condition"]  # how ensemble members are made to differ
Prediction = Literal["state", "tendency"]
Interpolation = Literal["bilinear"]  # how a spatial downscaler's coarse field reaches the fine grid (its residual base)
ModelPart = Literal["encoder", "processor", "decoder"]  # what a warm start may load (docs/models.md "Parts")

# -- variables --------------------------------------------------------------------------------------
Role = Literal["prognostic", "forcing", "diagnostic"]
Normaliser = Literal["mean_std", "std", "min_max", "max", "none"]
Remap = Literal["log1p", "sqrt"]
ImputerKind = Literal["statistic", "constant", "copy"]
ImputerStatistic = Literal["mean", "minimum", "maximum"]
Bounding = Literal["relu", "hardtanh"]
ComputedForcing = Literal[
    "cos_latitude", "sin_latitude", "cos_longitude", "sin_longitude",
    "cos_julian_day", "sin_julian_day", "cos_local_time", "sin_local_time", "insolation",
]

# -- graphs -------------------------------------------------------------------------------------------
NodesKind = Literal["dataset", "icosahedral", "healpix", "latlon", "stretched"]
EdgesKind = Literal["knn", "cutoff", "multiscale"]
NodeWeights = Literal["spherical_area", "cos_latitude", "uniform"]
NodeWeightsNorm = Literal["unit_sum", "unit_max", "l1", "l2", "none"]
EdgeAttribute = Literal["edge_length", "edge_direction"]
EdgeMask = Literal["area", "outside_area"]

# -- models ---------------------------------------------------------------------------------------
ProcessorKind = Literal["graphtransformer", "gnn", "transformer", "mlp"]
MapperKind = Literal["graphtransformer", "gnn"]
Activation = Literal["gelu", "silu", "relu", "swiglu", "geglu"]
Norm = Literal["layernorm", "rmsnorm"]
AttentionBackend = Literal["auto", "triton", "reference"]

# -- losses and scores ------------------------------------------------------------------------------
LossKind = Literal["mse", "rmse", "mae", "huber", "logcosh", "crps", "energy_score"]
ScalerKind = Literal["variable", "pressure_level", "node_weights", "lead_time", "nan_mask", "dataset_weights"]
LevelWeighting = Literal["relu", "linear", "polynomial", "none"]
MetricKind = Literal["rmse", "mae", "bias", "crps", "spread", "spread_skill", "rank_histogram"]

# -- training ---------------------------------------------------------------------------------------
OptimiserKind = Literal["adamw"]
ScheduleKind = Literal["cosine", "constant"]
Precision = Literal["32", "bf16-mixed", "16-mixed"]
ClipAlgorithm = Literal["value", "norm"]

# -- parallel layout ----------------------------------------------------------------------------------
Accelerator = Literal["auto", "gpu", "cpu"]
# how a model group of ``gpus_per_model`` ranks splits a model: each rank owns a partition of the destination
# nodes (and their incoming edges) of every mapper and the processor ("edges"), or attention runs on a subset
# of the heads over all nodes ("heads"); docs/runtime.md "Model sharding"
ShardStrategy = Literal["edges", "heads"]


def values(kind: object) -> tuple[str, ...]:
    """The names a ``Literal`` kind admits, in declaration order."""
    return tuple(get_args(kind))


TASK_KINDS = values(TaskKind)
METHOD_KINDS = values(MethodKind)
NOISE_KINDS = values(NoiseKind)
PREDICTIONS = values(Prediction)
INTERPOLATIONS = values(Interpolation)
MODEL_PARTS = values(ModelPart)
ROLES = values(Role)
NORMALISERS = values(Normaliser)
REMAPS = values(Remap)
IMPUTER_KINDS = values(ImputerKind)
IMPUTER_STATISTICS = values(ImputerStatistic)
BOUNDINGS = values(Bounding)
COMPUTED_FORCINGS = values(ComputedForcing)
NODES_KINDS = values(NodesKind)
EDGES_KINDS = values(EdgesKind)
NODE_WEIGHTS = values(NodeWeights)
NODE_WEIGHTS_NORMS = values(NodeWeightsNorm)
EDGE_ATTRIBUTES = values(EdgeAttribute)
EDGE_MASKS = values(EdgeMask)
PROCESSORS = values(ProcessorKind)
MAPPERS = values(MapperKind)
ACTIVATIONS = values(Activation)
NORMS = values(Norm)
ATTENTION_BACKENDS = values(AttentionBackend)
LOSSES = values(LossKind)
SCALERS = values(ScalerKind)
LEVEL_WEIGHTINGS = values(LevelWeighting)
METRICS = values(MetricKind)
OPTIMISERS = values(OptimiserKind)
SCHEDULES = values(ScheduleKind)
PRECISIONS = values(Precision)
CLIP_ALGORITHMS = values(ClipAlgorithm)
ACCELERATORS = values(Accelerator)
SHARD_STRATEGIES = values(ShardStrategy)

ENSEMBLE_LOSSES: tuple[LossKind, ...] = ("crps", "energy_score")
"""Losses that compare the members of an ensemble with each other: only the ensemble method has members."""
ENSEMBLE_METRICS: tuple[MetricKind, ...] = ("crps", "spread", "spread_skill", "rank_histogram")
"""Validation metrics of an ensemble's distribution (``rmse``, ``mae`` and ``bias`` score the ensemble mean)."""
