"""compile_file / compile_source: plans, sweeps, the source map, paths and determinism."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file, compile_source
from anemoic.datasets.synth import write_synthetic_store

GOLDEN = Path(__file__).parent  # holds base.anm


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("exp")
    write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")
    path = folder / "exp.anm"
    path.write_text((GOLDEN / "base.anm").read_text())
    return path


def test_plan_is_fully_resolved(experiment: Path) -> None:
    result = compile_file(experiment)
    assert not result.diagnostics
    plan = result.plans[0]
    assert plan.name == "exp"
    assert plan.dataset.path == str(experiment.parent / "store.zarr")
    assert len(plan.dataset.fingerprint) == 64 and plan.dataset.grid_size > 0
    assert plan.dataset.train.end == "2020-01-20T18:00:00"
    assert plan.indices.output == ("z_500", "t_500", "z_850", "t_850", "2t", "10u", "10v", "msl", "tp")
    assert plan.indices.input[-1] == "cos_latitude"
    assert [v.store_index for v in plan.variables if v.name == "cos_latitude"] == [-1]
    scalers = {s.name: s for s in plan.loss.scalers}
    assert scalers["variable"].weights[:2] == (12.0, 6.0)  # z and t from Anemoi's general_variable preset
    assert scalers["pressure_level"].weights[:3] == (0.5, 0.5, 0.85)  # max(0.2, 0.001 x level)
    assert plan.parallel.data_parallel_size == 2
    assert plan.training.optimiser.effective_lr == pytest.approx(2e-3)


def test_source_map_names_user_and_stdlib_lines(experiment: Path) -> None:
    plan = compile_file(experiment).plans[0]
    assert plan.source_map["model.channels"] == f"{experiment}:18:44"
    assert plan.source_map["model.mlp_hidden_ratio"].startswith("<std.models>:")
    assert plan.source_map["variables[tp].normaliser"] == f"{experiment}:14:33"


def test_same_source_same_plan_and_graph_key(experiment: Path) -> None:
    a, b = compile_file(experiment).plans[0], compile_file(experiment).plans[0]
    assert a == b
    assert len(a.graph.cache_key) == 64
    text = experiment.read_text().replace("refinement = 2", "refinement = 3")
    changed = compile_source(text, str(experiment)).plans[0]
    assert changed.graph.cache_key != a.graph.cache_key


def test_missing_store_warns_for_check_and_fails_for_build(tmp_path: Path) -> None:
    path = tmp_path / "exp.anm"
    path.write_text((GOLDEN / "base.anm").read_text())
    checked = compile_file(path)
    assert [d.code for d in checked.diagnostics] == ["W0101"] and checked.plans[0].dataset.fingerprint == ""
    built = compile_file(path, require_dataset=True)
    assert [d.code for d in built.diagnostics] == ["E0504"] and not built.plans


def test_several_errors_in_one_run(experiment: Path) -> None:
    text = experiment.read_text().replace("2t, 10u", "2tt, 10u").replace("timestep = 6h", "timestep = 6") \
        .replace("epochs = 2", "epochs = 0")
    result = compile_source(text, str(experiment))
    assert {"E0602", "E0101", "E0105"} <= {d.code for d in result.diagnostics}
    assert not result.plans


def test_sweep_makes_one_plan_per_member(experiment: Path) -> None:
    text = "let rate = 1e-3\nsweep rate in [1e-3, 3e-4]\n" + experiment.read_text().replace("lr = 1e-3", "lr = rate")
    result = compile_source(text, str(experiment))
    assert [p.training.optimiser.lr for p in result.plans] == [1e-3, 3e-4]
    assert [p.sweep.index for p in result.plans] == [0, 1]  # type: ignore[union-attr]
    assert result.plans[1].sweep.values == {"rate": 3e-4}  # type: ignore[union-attr]


def test_unreadable_file_is_a_diagnostic(tmp_path: Path) -> None:
    assert [d.code for d in compile_file(tmp_path / "absent.anm").diagnostics] == ["E0006"]
    bad = tmp_path / "bad.anm"
    bad.write_bytes(b"\xff\xfe")
    assert [d.code for d in compile_file(bad).diagnostics] == ["E0005"]


def test_store_path_resolves_against_the_file_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data.anm").write_text(
        'dataset era5 = zarr("stores/era5.zarr") { frequency = 6h; train = 2020..2020; validate = 2021..2021 }\n')
    text = (GOLDEN / "base.anm").read_text()
    start, end = text.index("dataset era5"), text.index("variables from")
    text = 'import "./shared/data.anm" (era5)\n' + text[:start] + text[end:]
    (tmp_path / "exp.anm").write_text(text)
    plan = compile_file(tmp_path / "exp.anm").plans[0]
    assert plan.dataset.path == str(tmp_path / "shared" / "stores" / "era5.zarr")
