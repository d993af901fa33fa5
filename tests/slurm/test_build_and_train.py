"""End to end under a real SLURM: `anemoic build --target slurm`, `sbatch`, 2-rank DDP training to the end.

Nothing is replaced: the job script is the one ``build`` writes, srun starts the
real ``anemoi-runtime exec`` in this virtual environment, and Lightning finds its
ranks through SLURM.  Slow (about 35 s here: two torch imports on two cores).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from tests.compiler.targets.project import shared_store
from tests.slurm.test_job_ranks import wait_for_job

pytestmark = pytest.mark.slurm

EXPERIMENT = """\
import std.models (graphtransformer)

dataset era5 = zarr("{store}") {{
  frequency = 6h
  train = 2020-01-01..2020-01-20
  validate = 2020-01-21..2020-01-31
}}

variables from era5 {{
  prognostic = [z_500, t_500, 2t, msl]
  forcing    = [lsm, cos_latitude]
  diagnostic = [tp]
  normalise  = mean_std except {{ tp: std, lsm: none, cos_latitude: none }}
}}

graph g = encode_process_decode(era5, hidden = icosahedral(refinement = 2), encoder = knn(k = 12), decoder = knn(k = 3))
model net = graphtransformer(g, channels = 16, heads = 4, layers = 1)

task forecast(net) {{
  timestep = 6h
  inputs   = 2 steps
  rollout  = 1 -> 1 by 0 every epoch
  loss     = mse
}}

train {{ epochs = 1; batch = 1; lr = 1e-3 with cosine(warmup = 1); max_steps = 2; limit_batches = 2; workers = 0; pin_memory = false }}
parallel {{ nodes = 1; processes_per_node = 2; gpus_per_model = 1; accelerator = cpu }}
site cpu {{ time = 40m; cpus_per_task = 1; venv = "{venv}"; signal_lead = 60s }}
tracking = off
"""


def test_built_job_trains_with_two_ranks(slurm_cluster: None, tmp_path: Path,
                                         tmp_path_factory: pytest.TempPathFactory,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    venv = Path(sys.prefix)
    if not (venv / "bin" / "anemoi-runtime").exists():
        pytest.skip("anemoi-runtime is not installed in this virtual environment")
    store = shared_store(tmp_path_factory)
    (tmp_path / "train.anm").write_text(EXPERIMENT.format(store=store, venv=venv))
    monkeypatch.chdir(tmp_path)
    assert main(["build", "train.anm", "--target", "slurm"]) == 0, capsys.readouterr().out

    submitted = subprocess.run(["sbatch", "--parsable", "build/train/job.sbatch"], capture_output=True, text=True,
                               timeout=30)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip().split(";")[0]
    state = wait_for_job(job_id, timeout_s=240)
    log = (tmp_path / f"build/train/slurm-{job_id}.out").read_text()
    assert "JobState=COMPLETED" in state and "ExitCode=0:0" in state, f"{state}\n{log[-3000:]}"
    assert "End of run train" in log

    ranks = [json.loads(p.read_text()) for p in sorted((tmp_path / "runs/train/ranks").glob("rank-*.json"))]
    assert [(r["global_rank"], r["world_size"], r["global_step"]) for r in ranks] == [(0, 2, 2), (1, 2, 2)]
    assert ranks[0]["weights_sha256"] == ranks[1]["weights_sha256"]  # DDP kept the replicas equal
    assert not set(ranks[0]["samples"]) & set(ranks[1]["samples"])  # each rank its own share of the data
