"""The plan: the only contract between the compiler and the runtime.

Everything here is resolved: the runtime never interprets source text, looks up
names, or applies defaults of its own.  Durations are whole seconds, dates are
ISO-8601 strings (``YYYY-MM-DDTHH:MM:SS``), variable lists are ordered and
their order *is* the tensor index.  Free-form ``params`` records hold only JSON
scalars and lists of them, keyed by names that the runtime's builders document.

The classes are frozen dataclasses so that a plan cannot be edited after it is
hashed; (un)structuring, JSON Schema and hashing live beside this module.  What
is read (datasets, variables, their indices) is declared in ``anemoic.plan.data``
and re-exported here, so every plan class is imported from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from anemoic.plan.consistency import check_datasets
from anemoic.plan.data import (  # noqa: F401  (re-exported: every plan class is imported from this module)
    BoundaryPlan, DatasetPlan, DateRangePlan, ImputerPlan, IndexPlan, SourcePlan, VariablePlan,
)
from anemoic.plan.kinds import (
    Accelerator, Activation, AttentionBackend, ClipAlgorithm, EdgeAttribute, EdgeMask, EdgesKind, LossKind,
    MapperKind, MethodKind, MetricKind, ModelPart, NodesKind, NodeWeights, NodeWeightsNorm, NoiseKind, Norm,
    OptimiserKind, Precision, Prediction, ProcessorKind, ScalerKind, ScheduleKind, ShardStrategy, TaskKind,
)
from anemoic.plan.versions import ADDED_IN_SCHEMA, SCHEMA_VERSION  # noqa: F401  (re-exported)

Scalar = Union[bool, int, float, str, None]
Param = Union[Scalar, tuple[Scalar, ...]]
Params = dict[str, Param]


@dataclass(frozen=True)
class NodesPlan:
    """A node set: the dataset's grid or a mesh built from a formula."""

    kind: NodesKind
    params: Params = field(default_factory=dict)
    # limited area: {"north","west","south","east"} in degrees, or None for global
    area: Params | None = None


@dataclass(frozen=True)
class EdgesPlan:
    """An edge set; reversed=True swaps source/target."""

    kind: EdgesKind
    params: Params = field(default_factory=dict)
    reversed: bool = False
    source_mask: EdgeMask | None = None  # only nodes inside ("area") or outside the limited area
    target_mask: EdgeMask | None = None


@dataclass(frozen=True)
class GraphPlan:
    name: str
    cache_key: str  # sha256 of the recipe + the dataset grid fingerprint
    data: NodesPlan
    hidden: NodesPlan
    encoder: EdgesPlan  # data -> hidden
    processor: EdgesPlan  # hidden -> hidden
    decoder: EdgesPlan  # hidden -> data
    node_weights: NodeWeights = "spherical_area"
    node_weights_norm: NodeWeightsNorm = "unit_sum"
    edge_attributes: tuple[EdgeAttribute, ...] = ("edge_length", "edge_direction")


@dataclass(frozen=True)
class ModelPlan:
    processor: ProcessorKind
    encoder: MapperKind
    decoder: MapperKind
    channels: int
    layers: int  # processor blocks
    heads: int = 16
    mlp_hidden_ratio: int = 4
    activation: Activation = "gelu"
    norm: Norm = "layernorm"
    qk_norm: bool = False
    window_size: int | None = None  # sliding window for the transformer processor
    trainable_data_size: int = 8
    trainable_hidden_size: int = 8
    gradient_checkpointing: bool = False
    attention_backend: AttentionBackend = "auto"
    num_chunks: int = 1  # mappers run over this many destination partitions in turn, each checkpointed


@dataclass(frozen=True)
class RolloutPlan:
    start: int = 1
    increment: int = 0  # added every `every_epochs` epochs
    every_epochs: int = 1
    maximum: int = 1
    validation: int = 1  # rollout steps used in validation


@dataclass(frozen=True)
class NoisePlan:
    """What makes ensemble members differ: Gaussian noise per member and hidden node (anemoi's NoiseInjector and
    NoiseConditioning), drawn from a seeded generator (docs/models.md "Ensembles")."""

    kind: NoiseKind  # "inject": concatenated to the hidden latent; "condition": conditions a layer norm of it
    channels: int = 4  # noise values per member and hidden node
    std: float = 1.0  # standard deviation of the noise
    hidden: int = 32  # width of the MLP the noise passes through first


@dataclass(frozen=True)
class MethodPlan:
    """How the task is trained: one deterministic state, or an ensemble of ``members`` states per sample."""

    kind: MethodKind = "deterministic"
    members: int = 1  # states predicted per sample, side by side along the ensemble dimension E
    noise: NoisePlan | None = None  # the ensemble's noise; None for a deterministic method


@dataclass(frozen=True)
class TaskPlan:
    """``timestep_s`` is the spacing of the sample's states.  A forecaster reads ``multistep_input`` states and
    rolls out; a temporal downscaler reads the states at ``input_offsets`` (``multistep_input`` of them) and
    predicts those at ``target_offsets`` at once, both in timesteps from the first input (empty for a
    forecaster; ``anemoic.plan.windows``)."""

    kind: TaskKind
    timestep_s: int
    multistep_input: int = 1
    rollout: RolloutPlan = field(default_factory=RolloutPlan)
    prediction: Prediction = "state"
    method: MethodPlan = field(default_factory=MethodPlan)
    input_offsets: tuple[int, ...] = field(default=(), metadata=ADDED_IN_SCHEMA)
    target_offsets: tuple[int, ...] = field(default=(), metadata=ADDED_IN_SCHEMA)
    # a limited-area model's output mask: the dataset (``Plan.dataset``'s name) whose grid points alone are scored,
    # written out and predicted; every other point of the model's grid (``Plan.boundary``) is forced from its
    # dataset at every step.  Required with a forced boundary, absent without one and with a stretched grid's
    # (``Plan.__post_init__`` checks every way)
    output_mask: str | None = field(default=None, metadata=ADDED_IN_SCHEMA)


@dataclass(frozen=True)
class ScalerPlan:
    """A named loss scaler, already resolved to numbers where it can be.

    kind "variable": weights per output variable (aligned with IndexPlan.output);
    kind "pressure_level": weights per output variable (1 for surface variables);
    kind "node_weights": params {"attribute": "area_weight"};
    kind "lead_time": params {"decay": ...};  kind "nan_mask": no params;
    kind "dataset_weights" (a stretched grid's): weights (region's, boundary dataset's) fractions of the total
    node weight, summing to 1 (anemoi's ReweightedGraphNodeAttribute ``weight_frac_of_total``).
    """

    name: str
    kind: ScalerKind
    weights: tuple[float, ...] = ()
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class LossTermPlan:
    """params: ``delta`` (huber), ``alpha`` (crps: 1 fair, 0 the ensemble's own kernel CRPS, between: almost
    fair), ``variable_reduction`` ("sum" | "mean")."""

    kind: LossKind
    weight: float = 1.0
    scalers: tuple[str, ...] = ()  # names from LossPlan.scalers
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class LossPlan:
    terms: tuple[LossTermPlan, ...]
    scalers: tuple[ScalerPlan, ...] = ()
    metrics: tuple[MetricKind, ...] = ("rmse",)  # scored per output variable and lead at validation


@dataclass(frozen=True)
class OptimiserPlan:
    kind: OptimiserKind = "adamw"
    lr: float = 6.25e-4  # base learning rate, as written
    effective_lr: float = 6.25e-4  # lr x data-parallel size / gpus_per_model when scaled
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 0.1


@dataclass(frozen=True)
class SchedulePlan:
    kind: ScheduleKind = "cosine"
    warmup_steps: int = 0
    min_lr: float = 3e-7
    total_steps: int | None = None  # None: derived from epochs x steps per epoch at run time


@dataclass(frozen=True)
class InitPlan:
    """Weights a fresh run starts from: the named parts of a trained checkpoint (e.g. an autoencoder's encoder
    and decoder); every other tensor keeps its fresh initialisation.  Not applied when a run resumes."""

    checkpoint: str  # a checkpoint file, or a run directory (its newest checkpoint); absolute
    parts: tuple[ModelPart, ...] = ("encoder", "processor", "decoder")


@dataclass(frozen=True)
class TrainingPlan:
    epochs: int
    batch_size: int  # per data-parallel rank
    optimiser: OptimiserPlan = field(default_factory=OptimiserPlan)
    schedule: SchedulePlan = field(default_factory=SchedulePlan)
    precision: Precision = "32"
    gradient_clip: float | None = 32.0
    gradient_clip_algorithm: ClipAlgorithm = "value"
    accumulate_grad_batches: int = 1
    ema_decay: float | None = None
    early_stopping_patience: int | None = None
    early_stopping_metric: str = "val/loss"
    time_limit_s: int | None = None
    max_steps: int | None = None
    limit_batches_per_epoch: int | None = None
    deterministic: bool = False
    debug: bool = field(default=False, metadata=ADDED_IN_SCHEMA)  # a few dates, deterministic algorithms, anomaly detection, the NaN/Inf guard
    preflight: bool = field(default=True, metadata=ADDED_IN_SCHEMA)  # one step at the largest rollout and full batch first
    num_workers: int = 2
    prefetch_factor: int = 2
    pin_memory: bool = True
    # warm start of named model parts; None: every weight freshly initialised (left out of the file: ADDED_IN_SCHEMA)
    init: InitPlan | None = field(default=None, metadata=ADDED_IN_SCHEMA)


@dataclass(frozen=True)
class ParallelPlan:
    nodes: int = 1
    processes_per_node: int = 1  # one per GPU on GPUs; CPU processes (gloo) on the CPU
    gpus_per_model: int = 1  # ranks of one model group, which share one model replica
    data_parallel_size: int = 1  # nodes x processes_per_node / gpus_per_model
    accelerator: Accelerator = "auto"
    shard_strategy: ShardStrategy = "edges"  # how a model group splits the model (gpus_per_model > 1)
    read_group_size: int = 1  # ranks (inside a model group) that read one sample together, each its grid slice
    keep_batch_sharded: bool = False  # inputs, normaliser and loss stay split over the grid in a model group


@dataclass(frozen=True)
class TrackingPlan:
    enabled: bool = True
    uri: str = "sqlite:///runs/mlflow.db"  # or http://host:port
    experiment: str = "anemoic"
    run_name: str | None = None
    system_metrics: bool = True


@dataclass(frozen=True)
class OutputsPlan:
    run_dir: str
    checkpoint_every_steps: int | None = None
    checkpoint_every_minutes: int | None = 30
    keep_last_checkpoints: int = 2
    tracking: TrackingPlan = field(default_factory=TrackingPlan)


@dataclass(frozen=True)
class SitePlan:
    """Where and how the job is queued (SLURM target); ignored by the local target."""

    name: str = "local"
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    time_limit_s: int = 3600
    cpus_per_task: int = 8
    mem: str | None = "0"
    modules: tuple[str, ...] = ()
    venv: str | None = None
    signal_lead_s: int = 120
    device_memory_gb: float | None = None
    extra_directives: tuple[str, ...] = ()


@dataclass(frozen=True)
class EstimatesPlan:
    """Compile-time resource estimates (informative; the runtime does not rely on them)."""

    graph_nodes: dict[str, int] = field(default_factory=dict)  # "data", "hidden"
    graph_edges: dict[str, int] = field(default_factory=dict)  # "encoder", "processor", "decoder"
    parameter_count: int = 0
    activation_bytes_per_gpu: int = 0
    parameter_state_bytes_per_gpu: int = 0  # fp32 weights + gradients + AdamW moments
    exact: bool = False  # graph sizes are exact counts (not approximations)


@dataclass(frozen=True)
class SweepMemberPlan:
    sweep: str
    index: int
    count: int
    values: Params = field(default_factory=dict)  # field path -> value for this member


@dataclass(frozen=True)
class Plan:
    name: str
    seed: int
    dataset: DatasetPlan
    variables: tuple[VariablePlan, ...]
    indices: IndexPlan
    graph: GraphPlan
    model: ModelPlan
    task: TaskPlan
    loss: LossPlan
    training: TrainingPlan
    parallel: ParallelPlan
    outputs: OutputsPlan
    site: SitePlan = field(default_factory=SitePlan)
    estimates: EstimatesPlan = field(default_factory=EstimatesPlan)
    sweep: SweepMemberPlan | None = None
    # the dataset around a limited-area model's region; None for a model of one dataset (left out of the file)
    boundary: BoundaryPlan | None = field(default=None, metadata=ADDED_IN_SCHEMA)
    # a spatial downscaler's coarse dataset; None for every other task (left out of the file)
    source: SourcePlan | None = field(default=None, metadata=ADDED_IN_SCHEMA)
    schema_version: int = SCHEMA_VERSION
    # Not hashed: where each field was set ("training.optimiser.lr" -> "exp.anm:12:8"),
    # so that reformatting a source file never changes the plan hash.
    source_map: dict[str, str] = field(default_factory=dict)

    @property
    def output_points(self) -> int | None:
        """How many of the grid's first points are scored, written out and predicted: a limited-area model's
        region; None for every point (one dataset, or a stretched grid's two)."""
        return self.dataset.grid_size if self.boundary is not None and self.boundary.forced else None

    def __post_init__(self) -> None:
        check_datasets(self)  # anemoic.plan.consistency: the rules between a plan's datasets and its task
