"""Dataset-aware checks against real zarr stores in the anemoi-datasets layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr

from anemoic.compiler.api import compile_source
from anemoic.datasets.synth import write_synthetic_store

BASE = (Path(__file__).resolve().parents[1] / "base.anm").read_text()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("s") / "store.zarr", grid="o16", start="2020-01-01",
                                 end="2020-01-31T18:00")


def codes(folder: Path, text: str = BASE) -> list[str]:
    return [d.code for d in compile_source(text, str(folder / "exp.anm")).diagnostics]


def test_missing_statistics_of_a_normalised_variable(pristine: Path, tmp_path: Path) -> None:
    shutil.copytree(pristine, tmp_path / "store.zarr")
    mean = zarr.open_array(str(tmp_path / "store.zarr" / "mean"), mode="r+")
    values = np.asarray(mean[:])
    values[list(zarr.open_group(str(tmp_path / "store.zarr"), mode="r").attrs["variables"]).index("msl")] = np.nan
    mean[:] = values
    assert codes(tmp_path) == ["E0608"]
    assert codes(tmp_path, BASE.replace("lsm: none }", "lsm: none, msl: none }")) == []


def test_unreadable_store_is_an_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "store.zarr").mkdir()
    (tmp_path / "store.zarr" / ".zattrs").write_text("{not json")
    assert codes(tmp_path) == ["E0505"]


def test_store_frequency_is_used_when_not_written(pristine: Path, tmp_path: Path) -> None:
    (tmp_path / "store.zarr").symlink_to(pristine, target_is_directory=True)
    plan = compile_source(BASE.replace("frequency = 6h", ""), str(tmp_path / "exp.anm")).plans[0]
    assert plan.dataset.frequency_s == 6 * 3600
    assert codes(tmp_path, BASE.replace("frequency = 6h", "frequency = 12h").replace("timestep = 6h", "timestep = 12h")
                 .replace("1 -> 4", "1 -> 2")) == []


def test_a_wrong_frequency_hides_no_other_mistake(pristine: Path, tmp_path: Path) -> None:
    """One check shows every independent mistake: the frequency, overlapping periods and an unknown variable."""
    shutil.copytree(pristine, tmp_path / "store.zarr")
    text = BASE.replace("frequency = 6h", "frequency = 4h").replace(
        "validate = 2020-01-21", "validate = 2020-01-15").replace("surface(2t,", "surface(2tt,")
    assert sorted(codes(tmp_path, text)) == ["E0401", "E0502", "E0602"]


def test_a_variable_with_missing_values_needs_an_imputer(tmp_path: Path) -> None:
    """The store's has_nans flags are read at check time: no NaN reaches the model, nor the cluster."""
    write_synthetic_store(tmp_path / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00",
                          nan_fraction=0.1, nan_variables=["2t"])
    assert codes(tmp_path) == ["E0614"]
    assert codes(tmp_path, BASE.replace("normalise = mean_std", "impute = { 2t: mean }\n  normalise = mean_std")) == []
