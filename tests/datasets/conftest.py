"""Stores shared by the data tests: written once per session (they are read-only in tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anemoic.datasets.synth import write_synthetic_store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default variables on o16, January 2020 at 6h, one missing date."""
    return write_synthetic_store(tmp_path_factory.mktemp("stores") / "small.zarr",
                                 missing_dates=["2020-01-10T06:00"])


@pytest.fixture()
def store_copy(small_store: Path, tmp_path: Path) -> Path:
    """A private copy of the small store that a test may damage."""
    target = tmp_path / "copy.zarr"
    shutil.copytree(small_store, target)
    return target


def edit_consolidated(store: Path, edit) -> None:
    """Apply `edit(metadata_dict)` to the store's .zmetadata (and the matching plain files)."""
    path = store / ".zmetadata"
    meta = json.loads(path.read_text())
    edit(meta["metadata"])
    path.write_text(json.dumps(meta))
    for key, value in meta["metadata"].items():
        target = store / key
        if target.parent.exists():
            target.write_text(json.dumps(value))
