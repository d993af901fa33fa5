"""How fast is `anemoic check` next to composing + validating the equivalent Anemoi YAML?

Columns, each the median of several runs measured in this same run:
  cold  a fresh process: `anemoic check examples/aifs_o96.anm` (check cache off) versus a fresh
        Python that composes Anemoi Training's Hydra config tree for the same experiment and
        validates it with pydantic models of the same fields;
  warm  in one process, the check repeated versus compose + validate repeated;
  cold, unchanged files: a fresh `anemoic check` whose result cache is valid (files, store and
        compiler unchanged: what re-checking in an editor or CI loop costs).
Hydra and pydantic are not project dependencies: they are installed into a separate venv
(default /tmp/bench-venv, created when missing; `--no-install` skips that column with a message).
anemoi-training itself is not installed (it pulls its own torch); the YAML below mirrors its
default config groups (data, dataloader, model, graph, training, hardware, diagnostics), and
the pydantic models mirror the fields anemoic checks.
``--baseline DIR`` also times the cold check of another checkout of anemoic (e.g. a git worktree of an
earlier commit: ``git worktree add /tmp/before <commit>``) on the same example, runs interleaved, and
prints both and their ratio: a change must not make the cold check slower.  Usage:
    nice .venv/bin/python benchmarks/check_speed.py [--runs 5] [--venv /tmp/bench-venv] [--no-install]
                                                    [--baseline /tmp/before]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "aifs_o96.anm"

CONFIG = {
    "config.yaml": """defaults:
  - data: zarr
  - dataloader: native_grid
  - diagnostics: evaluation
  - hardware: example
  - graph: multi_scale
  - model: graphtransformer
  - training: default
  - _self_
config_validation: true
""",
    "data/zarr.yaml": """format: zarr
resolution: o96
frequency: 6h
timestep: 6h
forcing: [cos_latitude, sin_latitude, cos_longitude, sin_longitude, cos_julian_day, sin_julian_day,
          cos_local_time, sin_local_time, insolation, lsm, sdor, slor, z]
diagnostic: [tp, cp]
normalizer:
  default: mean-std
  std: [tp, cp]
  max: [sdor, slor, z]
  none: [cos_latitude, sin_latitude, cos_longitude, sin_longitude, cos_julian_day, sin_julian_day,
         cos_local_time, sin_local_time, insolation, lsm]
remapped: {}
imputer: {default: none}
processors:
  normalizer:
    _target_: anemoi.models.preprocessing.normalizer.InputNormalizer
    config: ${data.normalizer}
""",
    "dataloader/native_grid.yaml": """num_workers: {training: 8, validation: 8, test: 8}
batch_size: {training: 1, validation: 1, test: 1}
limit_batches: {training: null, validation: null, test: 20}
dataset: ${hardware.paths.data}/${hardware.files.dataset}
training:
  dataset: ${dataloader.dataset}
  start: null
  end: 2017
  frequency: ${data.frequency}
validation:
  dataset: ${dataloader.dataset}
  start: 2018
  end: 2018
  frequency: ${data.frequency}
test:
  dataset: ${dataloader.dataset}
  start: 2019
  end: 2020
  frequency: ${data.frequency}
validation_rollout: 12
""",
    "diagnostics/evaluation.yaml": """log:
  mlflow: {enabled: true, offline: false, tracking_uri: "sqlite:///runs/mlflow.db", experiment_name: aifs-o96}
checkpoint:
  every_n_minutes: {save_frequency: 30, num_models_saved: 3}
plot: {asynchronous: true, frequency: {batch: 750, epoch: 10}}
""",
    "hardware/example.yaml": """num_gpus_per_node: 4
num_nodes: 2
num_gpus_per_model: 2
paths: {data: data, output: runs/aifs-o96, graph: graphs}
files: {dataset: aifs-ea-an-oper-0001-mars-o96-1979-2022-6h-v6.zarr, graph: null}
""",
    "graph/multi_scale.yaml": """overwrite: true
data: data
hidden: hidden
nodes:
  data:
    node_builder:
      _target_: anemoi.graphs.nodes.ZarrDatasetNodes
      dataset: ${dataloader.training.dataset}
    attributes: {area_weight: {_target_: anemoi.graphs.nodes.attributes.SphericalAreaWeights, norm: unit-max}}
  hidden: {node_builder: {_target_: anemoi.graphs.nodes.TriNodes, resolution: 5}}
edges:
  - source_name: ${graph.data}
    target_name: ${graph.hidden}
    edge_builders: [{_target_: anemoi.graphs.edges.CutOffEdges, cutoff_factor: 0.6, max_num_neighbours: 64}]
  - source_name: ${graph.hidden}
    target_name: ${graph.hidden}
    edge_builders: [{_target_: anemoi.graphs.edges.MultiScaleEdges, x_hops: 1}]
  - source_name: ${graph.hidden}
    target_name: ${graph.data}
    edge_builders: [{_target_: anemoi.graphs.edges.KNNEdges, num_nearest_neighbours: 3}]
""",
    "model/graphtransformer.yaml": """num_channels: 1024
cpu_offload: false
output_mask: {_target_: anemoi.training.utils.masks.NoOutputMask}
model: {_target_: anemoi.models.models.AnemoiModelEncProcDec}
layer_kernels: {LayerNorm: {_target_: torch.nn.LayerNorm}, Linear: {_target_: torch.nn.Linear}}
processor:
  _target_: anemoi.models.layers.processor.GraphTransformerProcessor
  trainable_size: 8
  sub_graph_edge_attributes: [edge_length, edge_dirs]
  num_layers: 16
  num_chunks: 2
  mlp_hidden_ratio: 4
  num_heads: 16
  qk_norm: false
  cpu_offload: ${model.cpu_offload}
encoder: {_target_: anemoi.models.layers.mapper.GraphTransformerForwardMapper, trainable_size: 8,
          sub_graph_edge_attributes: [edge_length, edge_dirs], num_chunks: 1, mlp_hidden_ratio: 4, num_heads: 16}
decoder: {_target_: anemoi.models.layers.mapper.GraphTransformerBackwardMapper, trainable_size: 8,
          sub_graph_edge_attributes: [edge_length, edge_dirs], num_chunks: 1, mlp_hidden_ratio: 4, num_heads: 16}
trainable_parameters: {data: 8, hidden: 8, data2hidden: 8, hidden2data: 8, hidden2hidden: 8}
attributes: {edges: [edge_length, edge_dirs], nodes: []}
node_loss_weight: area_weight
bounding: [{_target_: anemoi.models.layers.bounding.ReluBounding, variables: [tp, cp]}]
""",
    "training/default.yaml": """run_id: null
fork_run_id: null
load_weights_only: false
deterministic: false
precision: bf16-mixed
multistep_input: 2
accum_grad_batches: 1
num_sanity_val_steps: 6
gradient_clip: {val: 32., algorithm: value}
swa: {enabled: false, lr: 1.e-4}
training_loss:
  _target_: anemoi.training.losses.MSELoss
  scalers: [general_variable, pressure_level, node_weights]
  ignore_nans: false
scalers:
  general_variable:
    _target_: anemoi.training.losses.scalers.GeneralVariableLossScaler
    weights: {default: 1, q: 0.6, t: 6, u: 0.8, v: 0.5, w: 0.001, z: 12, sp: 10, 10u: 0.1, 10v: 0.1,
              2d: 0.5, tp: 0.025, cp: 0.0025}
  pressure_level: {_target_: anemoi.training.losses.scalers.ReluVariableLevelScaler, group: pl,
                   y_intercept: 0.2, slope: 0.001}
  node_weights: {_target_: anemoi.training.losses.scalers.GraphNodeAttributeScaler, nodes_name: data,
                 nodes_attribute_name: area_weight, norm: unit-sum}
rollout: {start: 1, epoch_increment: 1, max: 12}
max_epochs: 200
max_steps: 150000
lr:
  warmup: 1000
  rate: 0.625e-4
  iterations: ${training.max_steps}
  min: 3e-7
optimizer: {zero: false, kwargs: {betas: [0.9, 0.95]}}
metrics: [z_500, t_850, u_850, v_850]
""",
}

HELPER = r'''
import json, statistics, sys, time
t0 = time.perf_counter()
from typing import Literal
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from pydantic import BaseModel, Field, model_validator

class Hardware(BaseModel):
    num_gpus_per_node: int = Field(ge=1)
    num_nodes: int = Field(ge=1)
    num_gpus_per_model: int = Field(ge=1)

class Rollout(BaseModel):
    start: int = Field(ge=1)
    epoch_increment: int = Field(ge=0)
    max: int = Field(ge=1)

class LR(BaseModel):
    warmup: int
    rate: float = Field(gt=0)
    iterations: int
    min: float

class Training(BaseModel):
    precision: Literal["32", "bf16-mixed", "16-mixed"]
    multistep_input: int = Field(ge=1)
    rollout: Rollout
    max_epochs: int
    lr: LR
    scalers: dict
    training_loss: dict

class Processor(BaseModel):
    num_layers: int
    num_heads: int
    mlp_hidden_ratio: int
    num_chunks: int

class Model(BaseModel):
    num_channels: int
    processor: Processor
    @model_validator(mode="after")
    def heads_divide(self):
        assert self.num_channels % self.processor.num_heads == 0
        return self

class Data(BaseModel):
    frequency: str
    timestep: str
    forcing: list[str]
    diagnostic: list[str]
    normalizer: dict

class Config(BaseModel):
    data: Data
    hardware: Hardware
    training: Training
    model: Model
    graph: dict
    dataloader: dict
    diagnostics: dict
    @model_validator(mode="after")
    def layout(self):
        world = self.hardware.num_nodes * self.hardware.num_gpus_per_node
        assert world % self.hardware.num_gpus_per_model == 0
        assert self.hardware.num_gpus_per_model <= self.model.processor.num_heads
        return self

def run(config_dir):
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(config_name="config")
    data = OmegaConf.to_container(cfg, resolve=True)
    return Config(**data)

config_dir, repeat = sys.argv[1], int(sys.argv[2])
run(config_dir)
first = time.perf_counter() - t0
times = []
for _ in range(repeat):
    t = time.perf_counter(); run(config_dir); times.append(time.perf_counter() - t)
print(json.dumps({"first": first, "warm": statistics.median(times) if times else None}))
'''


def median_time(command: list[str], runs: int, cwd: Path, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_module(checkout: Path) -> str:
    """The `anemoic` command-line module of a checkout (it moved from the compiler to anemoic/cli)."""
    return "anemoic.cli.anemoic" if (checkout / "anemoic" / "cli" / "anemoic.py").exists() else "anemoic.compiler.cli"


def compare_cold(baseline: Path, runs: int) -> None:
    """Cold checks of this checkout and of ``baseline``, interleaved so both see the same machine load."""
    env = {**os.environ, "ANEMOIC_NO_CHECK_CACHE": "1"}
    commands = {checkout: [sys.executable, "-m", cli_module(checkout), "check", str(EXAMPLE)]
                for checkout in (ROOT, baseline)}
    times: dict[Path, list[float]] = {ROOT: [], baseline: []}
    for _ in range(runs):
        for checkout, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, cwd=checkout, check=True, capture_output=True, env={**env, "PYTHONPATH": str(checkout)})
            times[checkout].append(time.perf_counter() - start)
    now, before = statistics.median(times[ROOT]), statistics.median(times[baseline])
    print(f"cold anemoic check {EXAMPLE.name}: this checkout {now * 1000:7.1f} ms   baseline {baseline} "
          f"{before * 1000:7.1f} ms   ratio {now / before:.2f} (medians of {runs}, interleaved)")


def ensure_venv(venv: Path, install: bool) -> Path | None:
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import hydra, pydantic"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    if not install:
        return None
    print(f"creating {venv} with hydra-core and pydantic (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False, capture_output=True)
    result = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "hydra-core", "pydantic"], capture_output=True)
    if result.returncode != 0 or subprocess.run(probe, capture_output=True).returncode != 0:
        return None
    return python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/bench-venv"))
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--baseline", type=Path, help="another anemoic checkout to compare the cold check with")
    args = parser.parse_args()
    if args.baseline is not None:
        compare_cold(args.baseline.resolve(), args.runs)

    command = [sys.executable, "-m", "anemoic.cli.anemoic", "check", str(EXAMPLE)]
    cold = median_time(command, args.runs, ROOT, {**os.environ, "ANEMOIC_NO_CHECK_CACHE": "1"})
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # fill the check cache
    cached = median_time(command, args.runs, ROOT)
    from anemoic.compiler.api import compile_file
    compile_file(EXAMPLE)
    warm_times = []
    for _ in range(args.runs * 4):
        start = time.perf_counter()
        compile_file(EXAMPLE)
        warm_times.append(time.perf_counter() - start)
    warm = statistics.median(warm_times)
    print(f"anemoic check {EXAMPLE.name}: cold {cold * 1000:7.1f} ms   warm {warm * 1000:7.1f} ms   "
          f"cold, unchanged files (check cache) {cached * 1000:7.1f} ms")

    python = ensure_venv(args.venv, not args.no_install)
    if python is None:
        print(f"hydra column skipped: no venv with hydra-core + pydantic at {args.venv} "
              "(run without --no-install, with PyPI reachable, to create it)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp) / "config"
        for name, text in CONFIG.items():
            (config_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (config_dir / name).write_text(text)
        helper = Path(tmp) / "compose.py"
        helper.write_text(HELPER)
        hydra_cold = median_time([str(python), str(helper), str(config_dir), "0"], args.runs, ROOT)
        out = subprocess.run([str(python), str(helper), str(config_dir), str(args.runs * 4)], check=True,
                             capture_output=True, text=True)
        hydra_warm = json.loads(out.stdout)["warm"]
    print(f"hydra compose + pydantic:  cold {hydra_cold * 1000:7.1f} ms   warm {hydra_warm * 1000:7.1f} ms")
    print(f"ratio (hydra / anemoic):   cold {hydra_cold / cold:7.1f} x    warm {hydra_warm / warm:7.1f} x   "
          f"cold with check cache {hydra_cold / cached:7.1f} x")
    print("target: cold anemoic check < 300 ms and >= 5x faster than the Hydra path (cold)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
