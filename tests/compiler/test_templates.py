"""`anemoic new`'s templates: every example, made into a new experiment with or without a dataset,
checks cleanly (against the real Pacific store and a synthetic ERA5-like one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file
from anemoic.compiler.templates import TemplateError, render, templates
from anemoic.datasets.store import read_metadata
from tests.compiler.targets.project import shared_store
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]
PACIFIC = ROOT / "data" / "pacific-sst-wind-5deg.zarr"
NAMES = sorted({p.stem: name for name, p in sorted(templates().items(), reverse=True)}.values())  # one per file
SEVERAL_DATASETS = ("lam", "spatial_downscale", "spatial_downscale_ensemble", "stretched_pacific")  # no --dataset fitting
ONE_DATASET = [name for name in NAMES if name not in SEVERAL_DATASETS]


def _check(path: Path, text: str, require: bool) -> None:
    path.write_text(text)
    result = compile_file(path, require_dataset=require)
    assert not result.has_errors(), result.render()
    assert result.plans


def test_every_example_is_a_template_with_a_short_name() -> None:
    found = templates()
    assert {p.name for p in found.values()} == {p.name for p in (ROOT / "examples").glob("*.anm")}
    assert found["aifs"].name == "aifs_o96.anm" and found["quickstart"].name == "quickstart.anm"


@pytest.mark.parametrize("template", NAMES)
def test_template_without_a_dataset_checks(template: str, tmp_path: Path) -> None:
    target = tmp_path / "exps" / "mine.anm"
    target.parent.mkdir()
    _check(target, render(template, "mine", target), require=False)


@pytest.mark.parametrize("template", ONE_DATASET)
def test_template_fitted_to_the_pacific_store_checks(template: str, tmp_path: Path) -> None:
    if not PACIFIC.exists():
        pytest.skip("data/pacific-sst-wind-5deg.zarr is absent (make data)")
    target = tmp_path / "sst.anm"
    text = render(template, "sst", target, read_metadata(PACIFIC))
    assert '"runs/sst"' in text and "prognostic = [sst, 10u, 10v]" in text and "impute     = { sst: mean }" in text
    _check(target, text, require=True)


@pytest.mark.parametrize("template", ONE_DATASET)
def test_template_fitted_to_a_synthetic_store_checks(template: str, tmp_path: Path,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    store = read_metadata(shared_store(tmp_path_factory))
    target = tmp_path / "synth.anm"
    text = render(template, "synth", target, store)
    if "timestep" in templates()[template].read_text():  # a downscaler's offsets and an autoencoder have none
        aligned = text.replace("timestep           =", "timestep =").replace("timestep  =", "timestep =")
        assert "timestep = 6h" in aligned
    _check(target, text, require=True)


def test_a_downscalers_offsets_become_the_same_pattern_in_store_steps(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    store = read_metadata(shared_store(tmp_path_factory))  # 6-hourly: the template's months are no steps of it
    text = render("temporal_downscale_ensemble", "synth", tmp_path / "synth.anm", store)
    assert "[0, 18h]" in text and "[6h, 12h]" in text, text


def test_quickstart_on_the_pacific_store_golden() -> None:
    if not PACIFIC.exists():
        pytest.skip("data/pacific-sst-wind-5deg.zarr is absent (make data)")
    text = render("quickstart", "sst", ROOT / "exps" / "sst.anm", read_metadata("data/pacific-sst-wind-5deg.zarr"))
    assert_golden(text, Path(__file__).parent / "golden" / "new_quickstart_pacific.anm")


def test_unknown_template_lists_the_templates(tmp_path: Path) -> None:
    with pytest.raises(TemplateError,
                       match=r"^no template `cerra`; templates: aifs, aifs_o96, autoencode, ensemble, lam, lam_pacific"):
        render("cerra", "x", tmp_path / "x.anm")


@pytest.mark.parametrize("template", SEVERAL_DATASETS)
def test_a_template_of_several_datasets_is_not_fitted_to_one_store(template: str, tmp_path: Path,
                                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    assert template in NAMES
    store = read_metadata(shared_store(tmp_path_factory))
    with pytest.raises(TemplateError, match=r"reads 2 datasets \(.+\): `--dataset` fits templates of one dataset"):
        render(template, "x", tmp_path / "x.anm", store)
