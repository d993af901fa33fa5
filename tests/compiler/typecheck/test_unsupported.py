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


ENSEMBLE = "inputs = 2 steps\n  method = ensemble(members = 4)"
FORECAST_WINDOW = "timestep = 6h\n  inputs = 2 steps\n  rollout = 1 -> 4 by 1 every epoch"
DOWNSCALE_WINDOW = "inputs = [0, 12h]\n  targets = [6h]"


def _downscaler(text: str) -> str:
    """The base experiment as a temporal downscaler: the state at t + 6 h from those at t and t + 12 h."""
    assert FORECAST_WINDOW in text
    return text.replace("task forecast(net)", "task temporal_downscale(net)").replace(FORECAST_WINDOW,
                                                                                      DOWNSCALE_WINDOW)
FAIR = "loss = fair_crps * node_weights(area)"


@pytest.mark.parametrize("old, new, code", [
    ("inputs = 2 steps", "inputs = 2 steps\n  method = diffusion", "E1410"),
    ("diagnostic = [tp]", "diagnostic = [tp]\n  target = [2t]", "E1403"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; ensemble_per_device = 2 }", "E1407"),
    (PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; ensemble_per_device = 1 }", "E1407"),
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


def _ensemble(text: str) -> str:
    """The base experiment trained as a 4-member ensemble with the fair CRPS."""
    loss = next(line for line in text.splitlines() if line.strip().startswith("loss ="))
    return text.replace("inputs = 2 steps", ENSEMBLE).replace(loss, "  " + FAIR)


@pytest.mark.parametrize("task, method, codes", [
    ("forecast", "deterministic", []),
    ("forecast", "ensemble(members = 4)", []),
    ("forecast", "diffusion", ["E1410"]),
    ("temporal_downscale", "deterministic", []),
    ("temporal_downscale", "ensemble(members = 4)", []),
    ("temporal_downscale", "diffusion", ["E1410"]),
    ("autoencode", "deterministic", []),
    ("autoencode", "ensemble(members = 4)", ["E1415"]),
    ("autoencode", "diffusion", ["E1410"]),
])
def test_every_cell_of_the_task_by_method_grid_runs_or_is_refused_with_its_code(
        folder: Path, task: str, method: str, codes: list[str]) -> None:
    base = _downscaler(BASE) if task == "temporal_downscale" else BASE
    window = "inputs = [0, 12h]" if task == "temporal_downscale" else "inputs = 2 steps"
    text = base.replace("task forecast(net)", f"task {task}(net)").replace(window, f"{window}\n  method = {method}")
    if task == "autoencode":  # one state in, the same state out: no time settings (E0825)
        text = "\n".join(line for line in text.splitlines()
                         if not line.strip().startswith(("timestep", "inputs", "rollout"))) + "\n"
    if method.startswith("ensemble"):
        loss = next(line for line in text.splitlines() if line.strip().startswith("loss ="))
        text = text.replace(loss, "  " + FAIR)  # an ensemble loss: no W1302
    result = compile_source(text, str(folder / "exp.anm"))
    assert sorted(d.code for d in result.diagnostics if d.severity == "error") == codes, result.render()
    assert bool(result.plans) == (not codes)


@pytest.mark.parametrize("per_device, codes", [(None, []), (4, []), (2, ["E1411"]), (1, ["E1411"]), (3, ["E1008"]),
                                               (8, ["E1008"])])
def test_members_per_device_divide_the_members_and_hold_them_all(folder: Path, per_device: int | None,
                                                                  codes: list[str]) -> None:
    text = _ensemble(BASE)
    if per_device is not None:
        layout = f"parallel {{ nodes = 1; gpus_per_node = 2; ensemble_per_device = {per_device} }}"
        text = text.replace(PARALLEL, layout)
    result = compile_source(text, str(folder / "exp.anm"))
    assert [d.code for d in result.diagnostics if d.severity == "error"] == codes, result.render()


def test_an_ensemble_on_a_store_of_ensemble_members_is_refused(tmp_path: Path) -> None:
    write_synthetic_store(tmp_path / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00", ensembles=2)
    result = compile_source(_ensemble(BASE), str(tmp_path / "exp.anm"))
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E1412"], result.render()


@pytest.mark.parametrize("new", [
    "parallel { gpus_per_node = 4; gpus_per_model = 2 }",
    "parallel { gpus_per_node = 4; gpus_per_model = 4; shard = heads; read_group = 2 }",
    "parallel { gpus_per_node = 4; gpus_per_model = 2; read_group = 2; keep_batch_sharded = true }",
    "parallel { processes_per_node = 4; gpus_per_model = 4; keep_batch_sharded = true; accelerator = cpu }",
    "parallel { gpus_per_node = 8; gpus_per_model = 8 }",  # more ranks than heads: fine when sharding edges
    "parallel { gpus_per_node = 2; gpus_per_model = 1; read_group = 1; keep_batch_sharded = false }",
])
def test_model_sharding_read_groups_and_sharded_batches_build(folder: Path, new: str) -> None:
    assert errors(folder, PARALLEL, new) == []


def test_a_downscaler_on_a_sharded_model_is_refused(folder: Path) -> None:
    text = _downscaler(BASE).replace(PARALLEL, "parallel { gpus_per_node = 4; gpus_per_model = 2 }")
    result = compile_source(text, str(folder / "exp.anm"))
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E1414"], result.render()


def test_chunked_mappers_build(folder: Path) -> None:
    result = compile_source(BASE.replace("heads = 4)", "heads = 4, num_chunks = 3)"), str(folder / "exp.anm"))
    assert not result.diagnostics and result.plans[0].model.num_chunks == 3


@pytest.mark.parametrize("new, code", [
    ("parallel { gpus_per_node = 8; gpus_per_model = 8; shard = heads }", "E1003"),
    ("parallel { gpus_per_node = 4; gpus_per_model = 2; read_group = 4 }", "E1005"),
    ("parallel { gpus_per_node = 2; read_group = 2 }", "E1005"),
    ("parallel { gpus_per_node = 4; gpus_per_model = 4; read_group = 2; keep_batch_sharded = true }", "E1009"),
    ("parallel { gpus_per_node = 2; shard = heads }", "E1406"),
    ("parallel { gpus_per_node = 2; keep_batch_sharded = true }", "E1406"),
])
def test_sharding_settings_that_cannot_hold_or_do_nothing_are_errors(folder: Path, new: str, code: str) -> None:
    assert errors(folder, PARALLEL, new) == [code]


def test_the_read_group_of_a_sharded_batch_is_the_model_group(folder: Path) -> None:
    text = BASE.replace(PARALLEL, "parallel { gpus_per_node = 4; gpus_per_model = 2; keep_batch_sharded = true }")
    parallel = compile_source(text, str(folder / "exp.anm")).plans[0].parallel
    assert (parallel.read_group_size, parallel.keep_batch_sharded, parallel.data_parallel_size) == (2, True, 2)


def test_an_ensemble_on_a_sharded_model_is_refused(folder: Path) -> None:
    text = _ensemble(BASE).replace(PARALLEL, "parallel { gpus_per_node = 4; gpus_per_model = 2 }")
    result = compile_source(text, str(folder / "exp.anm"))
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E1413"], result.render()


@pytest.mark.parametrize("setting", ["timestep = 6h", "inputs = 1", "rollout = 1", "validation_rollout = 2",
                                     "targets = [6h]"])
def test_an_autoencoder_has_no_time_settings(folder: Path, setting: str) -> None:
    task = BASE[BASE.index("task forecast(net) {"):BASE.index("}", BASE.index("task forecast(net) {")) + 1]
    loss = next(line for line in task.splitlines() if line.strip().startswith("loss ="))
    assert errors(folder, task, f"task autoencode(net) {{\n  {setting}\n{loss}\n}}") == ["E0825"]
    assert errors(folder, task, f"task autoencode(net) {{\n{loss}\n}}") == []


def test_an_autoencoder_on_a_sharded_model_is_refused(folder: Path) -> None:
    task = BASE[BASE.index("task forecast(net) {"):BASE.index("}", BASE.index("task forecast(net) {")) + 1]
    text = BASE.replace(task, "task autoencode(net) {\n  loss = mse\n}").replace(
        PARALLEL, "parallel { nodes = 1; gpus_per_node = 2; gpus_per_model = 2 }")
    result = compile_source(text, str(folder / "exp.anm"))
    assert [d.code for d in result.diagnostics if d.severity == "error"] == ["E1416"]
