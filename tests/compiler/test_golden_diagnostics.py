"""Golden tests: the exact text `anemoic check` prints for common mistakes.

Each case edits the valid experiment ``golden/base.anm`` (one replacement) and compares the
rendered diagnostics with ``golden/<case>.txt``.  Regenerate after an intended wording change
with ``ANEMOIC_UPDATE_GOLDEN=1 pytest tests/compiler/test_golden_diagnostics.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file
from anemoic.datasets.synth import write_synthetic_store

GOLDEN = Path(__file__).with_name("golden")
BASE = (GOLDEN / "base.anm").read_text()

# (case name, text in base.anm, replacement[, extra files]); names starting "warn_" only warn.
CASES: list[tuple] = [
    ("variable_typo", "surface(2t, 10u", "surface(2tt, 10u"),
    ("duration_without_unit", "timestep = 6h", "timestep = 6"),
    ("duration_unknown_unit", "timestep = 6h", "timestep = 6x"),
    ("timestep_not_multiple", "timestep = 6h", "timestep = 9h"),
    ("frequency_not_multiple_of_store", "frequency = 6h", "frequency = 4h"),
    ("overlapping_periods", "validate = 2020-01-21", "validate = 2020-01-15"),
    ("period_outside_store", "validate = 2020-01-21..2020-01-31", "validate = 2020-01-21..2020-02-10"),
    ("period_reversed", "train = 2020-01-01..2020-01-20", "train = 2020-01-20..2020-01-01"),
    ("impossible_date", "train = 2020-01-01", "train = 2020-02-30"),
    ("missing_normaliser", "normalise = mean_std except { tp: std, lsm: none }", "normalise = { tp: std, lsm: none }"),
    ("two_normalisers", "except { tp: std, lsm: none }", "except { tp: std, lsm: none, z: max, z_500: std }"),
    ("unknown_normaliser", "mean_std except", "mean_stdd except"),
    ("normaliser_for_unlisted_variable", "except { tp: std, lsm: none }", "except { tp: std, lsm: none, q: std }"),
    ("variable_in_two_roles", "forcing = [lsm, cos_latitude]", "forcing = [lsm, cos_latitude, msl]"),
    ("computed_forcing_as_prognostic", "surface(2t, 10u, 10v, msl)", "surface(2t, 10u, 10v, msl, cos_latitude)"),
    ("computed_forcing_normalised", "except { tp: std, lsm: none }", "except { tp: std, lsm: none, cos_latitude: std }"),
    ("bound_on_forcing", "diagnostic = [tp]", "diagnostic = [tp]\n  bound = { lsm: relu }"),
    ("unknown_component", "model net = graphtransformer(", "model net = graphtransfomer("),
    ("unknown_keyword_argument", "channels = 64", "channel = 64"),
    ("too_many_positionals", "icosahedral(refinement = 2)", "icosahedral(refinement = 2), decoder = knn(3, 4)"),
    ("missing_argument", "icosahedral(refinement = 2)", "icosahedral()"),
    ("unknown_setting", "epochs = 2", "epoch = 2"),
    ("setting_twice", "epochs = 2;", "epochs = 2; epochs = 3;"),
    ("duplicate_definition", "model net =", "graph g = encode_process_decode(era5, hidden = icosahedral(refinement = 3))\nmodel net ="),
    ("import_cycle", "import std.scalers", "import std.scalers\nimport \"./other.anm\"",
     {"other.anm": 'import "./import_cycle.anm"\nlet x = 1\n'}),
    ("unknown_stdlib_module", "import std.scalers", "import std.scaler"),
    ("unknown_import_name", "(graphtransformer)", "(graphtransformers)"),
    ("unknown_module_member", "scalers.pressure_level *", "scalers.pressure_levels *"),
    ("select_from_non_module", "scalers.pressure_level *", "g.levels *"),
    ("self_referencing_let", "import std.scalers", "import std.scalers\nlet a = b\nlet b = a\nlet c = a"),
    ("gpus_per_model_not_power_of_two", "gpus_per_node = 4; gpus_per_model = 2", "gpus_per_node = 6; gpus_per_model = 3"),
    ("gpus_per_model_not_dividing", "gpus_per_node = 4; gpus_per_model = 2", "gpus_per_node = 6; gpus_per_model = 4"),
    ("more_shards_than_heads", "gpus_per_node = 4; gpus_per_model = 2", "gpus_per_node = 8; gpus_per_model = 8"),
    ("batch_not_one_when_sharding", "batch = 1", "batch = 8"),
    ("site_time_too_short", "parallel {", "site hpc { time = 20m; partition = \"gpu\" }\nparallel {"),
    ("channels_not_divisible_by_heads", "channels = 64", "channels = 66"),
    ("multiscale_on_healpix", "icosahedral(refinement = 2)", "healpix(level = 2), processor = multiscale()"),
    ("bad_area", "icosahedral(refinement = 2)", "icosahedral(refinement = 2, area = {north: 10, south: 20})"),
    ("crps_without_ensemble", "loss = mse *", "loss = crps *"),
    ("loss_without_loss_function", "loss = mse * scalers.general_variable *", "loss = scalers.general_variable *"),
    ("two_losses_multiplied", "loss = mse *", "loss = mse * mae *"),
    ("unknown_loss", "loss = mse *", "loss = msee *"),
    ("pressure_level_scaler_on_surface", "scalers.pressure_level *", "scalers.pressure_level(variables = [2t]) *"),
    ("rollout_longer_than_validation", "rollout = 1 -> 4 by 1 every epoch", "rollout = 1 -> 4 by 1 every epoch\n  validation_rollout = 60"),
    ("rollout_shrinks", "rollout = 1 -> 4", "rollout = 4 -> 1"),
    ("members_without_ensemble", "inputs = 2 steps", "inputs = 2 steps\n  members = 4"),
    ("unknown_task_kind", "task forecast(net)", "task forcast(net)"),
    ("task_on_unknown_model", "task forecast(net)", "task forecast(nett)"),
    ("no_train_block", "train { epochs = 2; batch = 1; lr = 1e-3 with cosine(warmup = 10) }", ""),
    ("two_train_blocks", "parallel {", "train { epochs = 3 }\nparallel {"),
    ("whole_number_expected", "epochs = 2", "epochs = 2.5"),
    ("zero_epochs", "epochs = 2", "epochs = 0"),
    ("string_expected", 'run_dir = "runs/golden"', "run_dir = runs/golden"),
    ("bad_tracking_uri", "outputs {", 'tracking { uri = "mlflow.db" }\noutputs {'),
    ("sweep_without_let", "import std.scalers", "import std.scalers\nsweep lr in [1e-3, 3e-4]"),
    ("parse_colon_for_equals", "frequency = 6h", "frequency: 6h"),
    ("parse_unclosed_brace", "outputs { run_dir = \"runs/golden\"; checkpoint_every = 30m }", "outputs { run_dir = \"runs/golden\""),
    ("parse_single_quotes", '"runs/golden"', "'runs/golden'"),
    ("parse_misspelt_keyword", "train {", "trian {"),
    ("parse_several_errors", "timestep = 6h", "timestep: 6h\n  metrics = [rmse, bias\n}\nlet broken = (1 +\n"
     "train { epochs = 1 }\nlet z ="),
    ("parse_space_in_duration", "timestep = 6h", "timestep = 6 h"),
    ("warn_missing_store", 'zarr("store.zarr")', 'zarr("missing.zarr")'),
    ("warn_window_size_on_graphtransformer", "heads = 4)", "heads = 4, window_size = 64)"),
    ("warn_unused_scaler_weight", "scalers.general_variable *", "scalers.general_variable(zz = 2) *"),
    ("warn_large_learning_rate", "lr = 1e-3", "lr = 2"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("store") / "store.zarr", grid="o16",
                                 start="2020-01-01", end="2020-01-31T18:00")


def render_case(case: tuple, store: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, bool]:
    name, old, new = case[:3]
    assert old in BASE, f"{name}: {old!r} is not in base.anm"
    (workdir / "store.zarr").symlink_to(store, target_is_directory=True)
    (workdir / f"{name}.anm").write_text(BASE.replace(old, new, 1))
    for extra, text in (case[3] if len(case) > 3 else {}).items():
        (workdir / extra).write_text(text)
    monkeypatch.chdir(workdir)
    result = compile_file(f"{name}.anm")
    return result.render(), result.has_errors()


def test_base_experiment_is_valid(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, errors = render_case(("base", "", ""), store, tmp_path, monkeypatch)
    assert not errors, text
    assert text == "ok: 1 plan, 0 warnings\n"


def test_cases_are_distinct() -> None:
    names = [c[0] for c in CASES]
    assert len(set(names)) == len(names) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_golden(case: tuple, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, errors = render_case(case, store, tmp_path, monkeypatch)
    assert errors == (not case[0].startswith("warn_")), text
    assert "Traceback" not in text
    golden = GOLDEN / f"{case[0]}.txt"
    if os.environ.get("ANEMOIC_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert golden.is_file(), f"missing {golden}; run with ANEMOIC_UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text()
