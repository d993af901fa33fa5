"""The encoder-processor-decoder model on a data grid and a hidden mesh.

Data flow for x (B, T_in, E, G, V_in), normalised:
  1. data node features: the T_in input steps flattened per node, [sin, cos] of lat/lon and
     trainable per-node parameters -> Linear -> channels;
     hidden node features: [sin, cos] of lat/lon and trainable parameters -> Linear -> channels;
  2. encoder mapper (data -> hidden), the ensemble's noise on the hidden latent (if any,
     ``runtime/models/noise.py``), processor (hidden -> hidden), decoder mapper (hidden -> data,
     updating the embedded data nodes of step 1);
  3. norm + Linear -> V_out channels per data node (S x V_out for S output steps);
  4. residual (prediction "state" only): the last input step of each prognostic variable is added,
     so the network learns the increment but the model *returns the full next state*; a temporal
     downscaler adds, for each target, the linear interpolation between the inputs that bracket it;
     with prediction "tendency" nothing is added and the prognostic channels are the
     normalised tendency, which the task turns into a state;
     an autoencoder's model (``ModelIO.bottleneck``) has no processor and no residual, and the decoder's
     destination nodes are embedded without the input state (its channels are zero in step 1), so the
     output has passed through the hidden mesh and nothing else (docs/models.md "Autoencoder");
  5. output bounding (relu / hardtanh per variable) on the state channels; in "tendency" mode only
     on non-prognostic (diagnostic) channels, since a tendency may be negative.
Ensemble members are folded into the batch: every member runs through the same network.

Sharded (``shard``, a ``ShardContext`` from the training loop): each rank of a model group computes its
own range of data and hidden nodes through every step (``models.sharded`` says what is exchanged); the
input is the whole grid, or only the rank's shard when the batch is kept sharded, and so is the output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from anemoic.plan.kinds import PREDICTIONS, ModelPart
from anemoic.runtime.distributed.collectives import gather_replicated
from anemoic.runtime.models.bounding import OutputBounding
from anemoic.runtime.models.layers import sincos_position
from anemoic.runtime.models.sharded import ShardContext, mapper_run, processor_run


@dataclass(frozen=True)
class ModelIO:
    """How the model's tensors line up with the plan's variable lists."""

    input_variables: tuple[str, ...]  # IndexPlan.input
    output_variables: tuple[str, ...]  # IndexPlan.output
    prognostic: tuple[str, ...]  # IndexPlan.prognostic (in both lists)
    multistep_input: int
    prediction: str = "state"
    bounding: tuple[tuple[str, str], ...] = ()  # (variable, "relu" | "hardtanh")
    output_steps: int = 1  # states predicted at once (a temporal downscaler's targets)
    # per output step, the weight of each input step in the residual (None: the last input step alone)
    residual_weights: tuple[tuple[float, ...], ...] | None = None
    bottleneck: bool = False  # an autoencoder: no processor, no residual, no input state at the decoder

    def __post_init__(self) -> None:
        if self.prediction not in PREDICTIONS:
            raise ValueError(f"unknown prediction {self.prediction!r}; choose one of {', '.join(PREDICTIONS)}")
        missing = [v for v in self.prognostic if v not in self.input_variables or v not in self.output_variables]
        if missing:
            raise ValueError(f"prognostic variables must be both inputs and outputs; not so for {', '.join(missing)}")
        if self.multistep_input < 1:
            raise ValueError(f"multistep_input must be at least 1, got {self.multistep_input}")
        if self.output_steps < 1:
            raise ValueError(f"output_steps must be at least 1, got {self.output_steps}")
        weights = self.residual_weights
        if weights is not None and (len(weights) != self.output_steps
                                    or any(len(row) != self.multistep_input for row in weights)):
            raise ValueError(f"residual_weights must be {self.output_steps} rows of {self.multistep_input} weights")
        if self.bottleneck and (self.prediction != "state" or self.multistep_input != 1):
            raise ValueError("an autoencoder reconstructs one state: prediction state, one input step")


PARTS: dict[ModelPart, tuple[str, ...]] = {
    "encoder": ("trainable_data", "trainable_hidden", "embed_data.", "embed_hidden.", "encoder."),
    "processor": ("noise.", "processor."),
    "decoder": ("decoder.", "output_norm.", "output_projection."),
}
"""The parameter names (prefixes, relative to the model) of each part a warm start may load
(``TrainingPlan.init``); together they cover every parameter of the model exactly once."""


def part_of(name: str) -> ModelPart | None:
    """The part a parameter or buffer of the model belongs to (None: a name no part claims)."""
    return next((part for part, prefixes in PARTS.items() if name.startswith(prefixes)), None)


class EncoderProcessorDecoder(nn.Module):
    """forward(x (B, T_in, E, G, V_in), model_comm_group=None, generator=None) -> (B, E, G, V_out), normalised;
    with ``io.output_steps`` S above 1, (B, S, E, G, V_out): S states from one pass (their channels side by side
    in the output projection, as anemoi's multi-output models).

    ``model_comm_group`` is accepted for the training loop's sake and unused: a model group is given once,
    with ``shard``, and ``unshard`` returns to the whole graph on one process.  ``generator`` draws the
    noise of an ensemble's members (ignored without a noise module); every rank of a model group draws the
    whole mesh's noise from the same stream and keeps its own nodes, so the layout never changes the noise.
    """

    def __init__(
        self,
        io: ModelIO,
        *,
        data_latlon: Tensor,
        hidden_latlon: Tensor,
        encoder: nn.Module,
        processor: nn.Module | None,
        decoder: nn.Module,
        channels: int,
        output_norm: nn.Module,
        trainable_data_size: int = 8,
        trainable_hidden_size: int = 8,
        noise: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.io = io
        self.grid_size = int(data_latlon.shape[0])
        self.hidden_size = int(hidden_latlon.shape[0])
        n_in, n_out = len(io.input_variables), len(io.output_variables)
        self.register_buffer("data_position", sincos_position(data_latlon.float()), persistent=False)
        self.register_buffer("hidden_position", sincos_position(hidden_latlon.float()), persistent=False)
        self.trainable_data = nn.Parameter(torch.zeros(self.grid_size, trainable_data_size))
        self.trainable_hidden = nn.Parameter(torch.zeros(hidden_latlon.shape[0], trainable_hidden_size))
        self.embed_data = nn.Linear(io.multistep_input * n_in + 4 + trainable_data_size, channels)
        self.embed_hidden = nn.Linear(4 + trainable_hidden_size, channels)
        self.encoder = encoder
        self.processor = processor
        self.decoder = decoder
        self.noise = noise
        self.output_norm = output_norm
        self.output_projection = nn.Linear(channels, n_out * io.output_steps)
        if io.residual_weights is not None:
            self.register_buffer("residual_weights", torch.tensor(io.residual_weights), persistent=False)
        else:
            self.residual_weights = None
        residual_out = [io.output_variables.index(v) for v in io.prognostic]
        residual_in = [io.input_variables.index(v) for v in io.prognostic]
        self.register_buffer("residual_out", torch.tensor(residual_out, dtype=torch.int64), persistent=False)
        self.register_buffer("residual_in", torch.tensor(residual_in, dtype=torch.int64), persistent=False)
        self.bounding = OutputBounding(self._bounded_channels(io))
        self.sharding: ShardContext | None = None

    def shard(self, context: ShardContext) -> None:
        """Run as rank ``context.comm.rank`` of a model group from now on (the weights stay whole)."""
        comm, strategy = context.comm, context.strategy
        if self.processor is None:
            raise ValueError("an autoencoder's model (no processor) is not sharded by this runtime")
        heads = getattr(self.encoder.block, "heads", 1)
        self.encoder.run = mapper_run(self.encoder, comm, strategy, context.data_sizes, context.hidden_sizes)
        self.decoder.run = mapper_run(self.decoder, comm, strategy, context.hidden_sizes, context.data_sizes)
        self.processor.run = processor_run(self.processor, comm, strategy, context.hidden_sizes,
                                           _heads(self.processor, heads))
        self.sharding = context

    def unshard(self) -> None:
        """The whole graph on this process again (e.g. for the end-of-run report on rank 0)."""
        self.encoder.unshard()
        self.decoder.unshard()
        if self.processor is not None:
            self.processor.run = None
        self.sharding = None

    @staticmethod
    def _bounded_channels(io: ModelIO) -> dict[str, list[int]]:
        channels: dict[str, list[int]] = {}
        for name, kind in io.bounding:
            if io.prediction == "tendency" and name in io.prognostic:
                continue
            channels.setdefault(kind, []).append(io.output_variables.index(name))
        return channels

    def forward(self, x: Tensor, model_comm_group: object | None = None,
                generator: torch.Generator | None = None) -> Tensor:
        context = self.sharding
        data = slice(None) if context is None else context.data_range
        hidden = slice(None) if context is None else context.hidden_range
        batch, steps, members, _, variables = self._check_input(x)
        if context is not None and not context.batch_sharded:
            x = x[:, :, :, data]  # this rank's grid points
        grid = x.shape[3]
        flat = x.permute(0, 2, 3, 1, 4).reshape(batch * members, grid, steps * variables)
        folded = batch * members
        data_features = torch.cat(
            [flat, self._expand(self.data_position[data], folded), self._expand(self.trainable_data[data], folded)],
            dim=-1,
        )
        x_data = self.embed_data(data_features)
        hidden_features = torch.cat([self.hidden_position[hidden], self.trainable_hidden[hidden]], dim=-1)
        x_hidden = self._expand(self.embed_hidden(hidden_features), folded)
        x_hidden = self.encoder(x_data, x_hidden)
        if self.noise is not None:
            x_hidden = self.noise(x_hidden, generator, hidden)
        if self.processor is not None:
            x_hidden = self.processor(x_hidden)
        if self.io.bottleneck:  # the decoder's destinations know where they are, not what the input was there
            blind = torch.cat([torch.zeros_like(flat), data_features[..., flat.shape[-1]:]], dim=-1)
            x_data = self.embed_data(blind)
        x_data = self.decoder(x_hidden, x_data)
        # Back to the input's dtype before the residual: under bf16 autocast the projection yields bf16, and
        # a state rebuilt in bf16 would lose the precision of the last input (and could not be fed back into
        # a float32 rollout window).
        out = self.output_projection(self.output_norm(x_data)).to(x.dtype)
        out = out.reshape(batch, members, grid, -1) if self.io.output_steps == 1 else \
            out.reshape(batch, members, grid, self.io.output_steps, -1)
        if self.io.prediction == "state" and not self.io.bottleneck:
            out = out.index_add(-1, self.residual_out, self._residual(x))
        out = self.bounding(out)
        if context is not None and not context.batch_sharded:  # every rank of the group goes on with the whole grid
            out = gather_replicated(out, 2, context.data_sizes, context.comm)
        return out if self.io.output_steps == 1 else out.permute(0, 3, 1, 2, 4)

    def _residual(self, x: Tensor) -> Tensor:
        """What the network's output is an increment over, per prognostic variable: the last input step
        ``(B, E, G, P)``, or with ``residual_weights`` a weighted sum of the input steps per output step
        ``(B, E, G, S, P)`` (a downscaler: the linear interpolation between the inputs that bracket each target)."""
        prognostic = x.index_select(-1, self.residual_in)
        if self.residual_weights is None:
            return prognostic[:, -1]
        weighted = torch.einsum("st,btegp->begsp", self.residual_weights.to(prognostic.dtype), prognostic)
        return weighted if self.io.output_steps > 1 else weighted[:, :, :, 0]

    def _check_input(self, x: Tensor) -> tuple[int, int, int, int, int]:
        context = self.sharding
        grid = self.grid_size if context is None or not context.batch_sharded else context.data_sizes[
            context.comm.rank]
        expected = (self.io.multistep_input, grid, len(self.io.input_variables))
        if x.dim() != 5 or (x.shape[1], x.shape[3], x.shape[4]) != expected:
            raise ValueError(
                f"model input must be (batch, {expected[0]} steps, ensemble, {expected[1]} grid points, "
                f"{expected[2]} variables), got {tuple(x.shape)}"
            )
        batch, steps, members, grid, variables = x.shape
        return batch, steps, members, grid, variables

    @staticmethod
    def _expand(t: Tensor, batch: int) -> Tensor:
        return t.unsqueeze(0).expand(batch, *t.shape)


def _heads(processor: nn.Module, default: int) -> int:
    """Attention heads of the processor's blocks (the mappers' when it has none)."""
    for block in getattr(processor, "blocks", []):
        if hasattr(block, "heads"):
            return int(block.heads)
    return default
