"""Installing anemoic prints nothing a user has to wonder about: the project metadata is read by setuptools
(the version ``pip install`` builds with) without a single warning."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_project_metadata_raises_no_setuptools_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_configuration(Distribution(), os.fspath(ROOT / "pyproject.toml"))
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []
