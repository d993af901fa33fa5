"""`anemoic graph describe|plot` end to end: a real synthetic store, a written plan.json, the real CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from anemoic.plan.io import write_plan
from anemoic.datasets.synth import write_synthetic_store
from tests.cli.imports import heavy, imports_of
from tests.factories import make_plan
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph-cli")
    store = root / "synthetic.zarr"
    write_synthetic_store(store, grid="o16", end="2020-01-02T18:00")
    plan = make_plan(str(store), str(root / "run"))
    path = root / "plan.json"
    write_plan(plan, path)
    return path


def test_describe_prints_counts_degrees_and_the_run_cache(plan_file, capsys):
    assert main(["graph", "describe", str(plan_file)]) == 0
    out = capsys.readouterr().out
    run_dir = plan_file.parent / "run"
    assert f"cache: {run_dir / 'graphs'}/graph-" in out
    assert len(list((run_dir / "graphs").glob("graph-*.npz"))) == 1
    text = re.sub(r"cache: .*", "cache: <run>/graphs/graph-<key>.npz", out)
    assert_golden(text, GOLDEN / "graph_describe.txt")


def test_describe_without_cache_builds_in_memory(plan_file, capsys, tmp_path):
    assert main(["graph", "describe", str(plan_file), "--no-cache"]) == 0
    assert "cache: none (built in memory)" in capsys.readouterr().out


def test_plot_writes_the_png(plan_file, capsys, tmp_path):
    output = tmp_path / "graph.png"
    assert main(["graph", "plot", str(plan_file), "-o", str(output), "--edges", "200"]) == 0
    assert output.read_bytes()[:4] == b"\x89PNG"
    assert capsys.readouterr().out == f"wrote {output}\n"


def test_a_bad_recipe_is_one_line_without_traceback(tmp_path, capsys):
    store = tmp_path / "s.zarr"
    write_synthetic_store(store, grid="o16", end="2020-01-02T18:00")
    plan = make_plan(str(store), str(tmp_path / "run"), **{"graph.decoder.params": {"k": 5000}})
    write_plan(plan, tmp_path / "plan.json")
    assert main(["graph", "describe", str(tmp_path / "plan.json")]) == 2
    err = capsys.readouterr().err
    assert err == "error: graph g: decoder knn: k=5000 but there are only 42 source nodes\n"


def test_a_missing_store_is_reported(tmp_path, capsys):
    write_plan(make_plan(str(tmp_path / "absent.zarr"), str(tmp_path / "run")), tmp_path / "plan.json")
    assert main(["graph", "describe", str(tmp_path / "plan.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "absent.zarr" in err and "Traceback" not in err


EXPERIMENT = """\
import std.models (graphtransformer)

dataset era5 = zarr("{store}") {{
  frequency = 6h
  train = 2020-01-01..2020-01-01
  validate = 2020-01-02..2020-01-02
}}

variables from era5 {{
  prognostic = [z_500, t_500, 2t, msl]
  forcing    = [lsm, cos_latitude]
  normalise  = mean_std except {{ lsm: none, cos_latitude: none }}
}}

graph g = encode_process_decode(era5, hidden = icosahedral(refinement = 2), encoder = cutoff(factor = 0.7),
                                decoder = knn(k = 4))
model net = graphtransformer(g, channels = 32, heads = 4, layers = 2)

task forecast(net) {{
  timestep = 6h
  inputs   = 1 steps
  rollout  = 1 -> 1 by 1 every epoch
  loss     = mse
}}

train {{ epochs = 1; batch = 1; lr = 1e-3 with cosine(warmup = 1) }}
"""


def test_describe_compiles_an_experiment_file(plan_file, tmp_path, capsys):
    experiment = tmp_path / "exp.anm"
    experiment.write_text(EXPERIMENT.format(store=plan_file.parent / "synthetic.zarr"))
    cache = tmp_path / "graphs"
    assert main(["graph", "describe", str(experiment), "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "  hidden         162  icosahedral refinement=2\n" in out
    assert "cutoff factor=0.7 max_neighbours=64" in out
    assert re.search(r"decoder   hidden -> data\s+6,400  4 / 4.0 / 4", out)
    assert len(list(cache.glob("graph-*.npz"))) == 1


def test_describe_never_imports_torch(plan_file: Path) -> None:
    """The graph layer is numpy/scipy only: describing a graph loads neither torch nor Lightning."""
    proc, imported = imports_of(["graph", "describe", str(plan_file), "--no-cache"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "anemoic.graphs.build" in imported and heavy(imported) == set()


@pytest.fixture(scope="module")
def lam_plan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A limited-area plan: a box over the maritime continent inside the o16 globe, the mesh kept near it."""
    from anemoic.plan.model import NodesPlan
    from tests.graphs.helpers import lam_plan, lam_stores

    root = tmp_path_factory.mktemp("graph-lam")
    region, boundary = lam_stores(root)
    hidden = NodesPlan("icosahedral", {"refinement": 3, "mask": "maritime", "margin_km": 1500.0})
    path = root / "plan.json"
    write_plan(lam_plan(region, boundary, root / "run", margin_km=500.0, hidden=hidden), path)
    return path


def test_describe_counts_the_data_nodes_of_each_dataset(lam_plan_file, capsys):
    assert main(["graph", "describe", str(lam_plan_file)]) == 0
    text = re.sub(r"cache: .*", "cache: <run>/graphs/graph-<key>.npz", capsys.readouterr().out)
    assert "  region    maritime        45  of its 45 points" in text
    assert_golden(text, GOLDEN / "graph_describe_lam.txt")


def test_plot_colours_the_data_nodes_by_dataset(lam_plan_file, capsys, tmp_path):
    output = tmp_path / "lam.png"
    assert main(["graph", "plot", str(lam_plan_file), "-o", str(output), "--edges", "200", "--no-cache"]) == 0
    assert output.read_bytes()[:4] == b"\x89PNG"


def test_describe_of_a_spatial_downscaler_is_its_coarse_to_fine_graph(tmp_path, capsys):
    from tests.runtime.tasks.test_spatial_downscaler import downscaler_plan, write_coarse_store
    from tests.runtime.training.tiny_run import write_tiny_store

    plan = downscaler_plan(write_tiny_store(tmp_path), write_coarse_store(tmp_path), tmp_path / "run")
    write_plan(plan, tmp_path / "plan.json")
    assert main(["graph", "describe", str(tmp_path / "plan.json")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"data\s+160\s+dataset", out)  # 32 coarse points, then 128 fine ones
    assert "the 32 points of `coarse` (they send the encoder's edges), then the 128 of `synthetic`" in out
