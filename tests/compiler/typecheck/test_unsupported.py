"""Every plan that builds, runs: what the runtime cannot execute yet is refused at check time, with its own code.

Each case edits the valid base experiment once; the refusal must be the only error (so it is not a
side effect of another mistake) and the unedited base must build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_source
from anemoic.datasets.synth import write_synthetic_store

BASE = (Path(__file__).resolve().parents[1] / "base.anm").read_text()
PARALLEL = "parallel { nodes = 1; gpus_per_node = 2; gpus_per_model = 1 }"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unsupported")
    write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")
    return folder


def errors(folder: Path, old: str, new: str) -> list[str]:
    assert old in BASE
    result = compile_source(BASE.replace(old, new), str(folder / "exp.anm"))
    return [d.code for d in result.diagnostics if d.severity == "error"]


def test_the_base_experiment_builds(folder: Path) -> None:
    result = compile_source(BASE, str(folder / "exp.anm"), require_dataset=True)
    assert not result.diagnostics and result.plans


@pytest.mark.parametrize("old, new, code", [
    ("task forecast(net)", "task ensemble(net)", "E1401"),
    ("task forecast(net)", "task interpolate(net)", "E1401"),
    ("task forecast(net)", "task autoencode(net)", "E1401"),
    ("diagnostic = [tp]", "diagnostic = [tp]\n  target = [2t]", "E1403"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 4; gpus_per_model = 2 }", "E1404"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; read_group = 2 }", "E1405"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; shard = heads }", "E1406"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; ensemble_per_device = 2 }", "E1407"),
    ("heads = 4)", "heads = 4, num_chunks = 2)", "E1408"),
    ("inputs = 2 steps", "inputs = 2 steps\n  metrics = [rmse, acc]", "E1409"),
])
def test_what_the_runtime_cannot_run_is_refused_at_check_time(folder: Path, old: str, new: str, code: str) -> None:
    assert errors(folder, old, new) == [code]


@pytest.mark.parametrize("new", [
    "parallel { nodes = 1; gpus_per_node = 1; gpus_per_model = 1; accelerator = gpu }",
    "parallel { processes_per_node = 2; accelerator = cpu }",
    "parallel { gpus_per_node = 2 }",
])
def test_each_setting_counts_what_it_names(folder: Path, new: str) -> None:
    assert errors(folder, PARALLEL, new) == []


@pytest.mark.parametrize("new", [
    "parallel { gpus_per_node = 2; accelerator = cpu }",
    "parallel { processes_per_node = 2 }",
    "parallel { processes_per_node = 2; accelerator = gpu }",
    "parallel { gpus_per_node = 2; processes_per_node = 2; accelerator = cpu }",
])
def test_a_count_named_for_the_other_accelerator_is_an_error(folder: Path, new: str) -> None:
    assert errors(folder, PARALLEL, new) == ["E1007"]


def test_metrics_the_runtime_scores_reach_the_plan(folder: Path) -> None:
    text = BASE.replace("inputs = 2 steps", "inputs = 2 steps\n  metrics = [rmse, mae, bias]")
    assert compile_source(text, str(folder / "exp.anm")).plans[0].loss.metrics == ("rmse", "mae", "bias")
