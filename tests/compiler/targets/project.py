"""A tiny experiment project for end-to-end CLI tests: a synthetic store and `.anm` files that use it.

The store is written once per test session (under pytest's base temp dir)
and shared; each test gets its own project directory with the experiment
files, so builds never collide.  ``normalise`` replaces the parts of CLI
output that depend on where pytest put things (paths, and hashes, which
cover the store's absolute path) before golden comparison.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
  diagnostic = [{diagnostic}]
  normalise  = mean_std except {{ tp: std, lsm: none, cos_latitude: none }}
}}

graph g = encode_process_decode(era5, hidden = icosahedral(refinement = 2), encoder = knn(k = 12), decoder = knn(k = 3))
{lets}
model net = graphtransformer(g, channels = {channels}, heads = 4, layers = 2)

task forecast(net) {{
  timestep = 6h
  inputs   = 2 steps
  rollout  = 1 -> {rollout} by 1 every epoch
  loss     = mse
}}

train {{ epochs = 2; batch = 1; lr = {lr} with cosine(warmup = 10) }}
parallel {{ nodes = 1; processes_per_node = 2; gpus_per_model = 1; accelerator = cpu }}
site cpu {{ time = 2h; cpus_per_task = 1; partition = "debug"{site_extra} }}
"""


def experiment_text(store: Path, *, channels: str = "32", lr: str = "1e-3", rollout: int = 3,
                    diagnostic: str = "tp", lets: str = "", site_extra: str = "") -> str:
    return EXPERIMENT.format(store=store, channels=channels, lr=lr, rollout=rollout, diagnostic=diagnostic,
                             lets=lets, site_extra=site_extra)


def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's synthetic o16 store (written on first use)."""
    from anemoic.datasets.synth import write_synthetic_store

    path = tmp_path_factory.getbasetemp() / "anemoic-shared-store" / "synth.zarr"
    if not path.exists():
        write_synthetic_store(path, grid="o16")
    return path


_SIZES = re.compile(r"[\d,.]+ (M |G )?parameters|[\d.]+ (MiB|GiB)")
_HEX = re.compile(r"\b[0-9a-f]{64}\b|(?<=sha256:)[0-9a-f]{12}\b|(?<=plans: )[0-9a-f ]+")


def normalise(text: str, *paths: tuple[Path, str], sizes: bool = True) -> str:
    """Paths -> names, hashes -> <hash>; with ``sizes``, parameter counts and memory -> <n>.

    Sizes follow the model engineer's modules (tests/compiler/test_estimates.py checks the
    numbers against the real model), so the golden texts pin the layout, not those numbers.
    """
    for path, name in paths:
        text = text.replace(str(path), name)
    if sizes:
        text = _SIZES.sub(lambda m: "<n> parameters" if m.group(0).endswith("parameters") else "<n> " + m.group(2),
                          text)
    return _HEX.sub("<hash>", text)
