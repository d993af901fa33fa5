"""The checks of a spatial downscaler's coarse source against two real synthetic stores: a variable the coarse
store lacks (E0844), fine periods outside its dates (E0845), a grid not coarser than the fine one (E0846); and
a clean pair lowers to a plan whose source reads the coarse store's columns at the fine periods."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file
from anemoic.compiler.estimates import estimate
from anemoic.datasets.synth import write_synthetic_store

EXPERIMENT = '''import std.models (graphtransformer)

dataset fine = zarr("fine.zarr") {
  frequency = 6h
  train = 2020-01-01..2020-01-10
  validate = 2020-01-11..2020-01-15
}
dataset coarse = zarr("COARSE") { frequency = 6h }

variables from fine {
  prognostic = surface(2t, 10u)
  forcing = [cos_latitude]
  normalise = mean_std
}

graph g = encode_process_decode(fine, source = coarse, hidden = icosahedral(refinement = 1))
model net = graphtransformer(g, channels = 16, layers = 1, heads = 2)
task spatial_downscale(net) { loss = mse * node_weights(area) }
train { epochs = 1; batch = 1; lr = 1e-3 }
parallel { accelerator = cpu }
outputs { run_dir = "runs/spatial"; checkpoint_every = 30m }
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("spatial_check")
    write_synthetic_store(root / "fine.zarr", grid=(8, 16), end="2020-01-15T18:00")
    write_synthetic_store(root / "coarse.zarr", grid=(4, 8), end="2020-01-15T18:00", variables=("10u", "2t", "msl"))
    write_synthetic_store(root / "no_2t.zarr", grid=(4, 8), end="2020-01-15T18:00", variables=("10u", "msl"))
    write_synthetic_store(root / "short.zarr", grid=(4, 8), end="2020-01-12T18:00", variables=("2t", "10u"))
    write_synthetic_store(root / "same.zarr", grid=(8, 16), end="2020-01-15T18:00", variables=("2t", "10u"))
    return root


def _check(folder: Path, coarse: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(folder)
    (folder / f"{coarse}.anm").write_text(EXPERIMENT.replace("COARSE", f"{coarse}.zarr"))
    return compile_file(f"{coarse}.anm", require_dataset=True)


def test_a_coarse_twin_lowers_to_a_source_with_its_own_columns(folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    result = _check(folder, "coarse", monkeypatch)
    assert not result.has_errors(), result.render()
    plan = result.plans[0]
    assert plan.task.kind == "spatial_downscaler" and plan.source is not None
    assert [(v.name, v.store_index) for v in plan.source.variables] == [("2t", 1), ("10u", 0), ("cos_latitude", -1)]
    assert plan.source.dataset.validate == plan.dataset.validate and plan.source.dataset.grid_size == 32
    assert estimate(plan).graph_nodes["data"] == 128 + 32  # the coarse points, then the fine ones


@pytest.mark.parametrize("coarse, code, words", [
    ("no_2t", "E0844", "has no variable `2t`"),
    ("short", "E0845", "is not inside the dates of the source store"),
    ("same", "E0846", "is not coarser than `fine`"),
])
def test_an_unfit_source_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch, coarse: str, code: str,
                                    words: str) -> None:
    result = _check(folder, coarse, monkeypatch)
    found = [d for d in result.diagnostics if d.code == code]
    assert found and words in found[0].message, result.render()


def test_a_spatial_downscaler_over_a_cutout_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    text = EXPERIMENT.replace("COARSE", "coarse.zarr").replace(
        "encode_process_decode(fine, source = coarse,",
        "encode_process_decode(cutout(fine, coarse, margin_km = 100), source = coarse,")
    (folder / "cut.anm").write_text(text)
    result = compile_file("cut.anm", require_dataset=True)
    assert "E1422" in [d.code for d in result.diagnostics], result.render()
