"""Golden tests: the exact text `anemoic check` prints for common mistakes, one case file each.

A case is ``tests/compiler/diagnostics/<case>.txt``, a txtar-like file (as CUE's testdata)::

    an optional free comment (lines before the first header)
    -- <case>.anm --
    the whole experiment file that is checked
    -- other.anm --
    any further files the experiment imports (optional, any number)
    -- expected --
    the exact text `anemoic check <case>.anm` prints

A section runs from its ``-- NAME --`` line to the next header; its text is the file's bytes (each
section ends with a newline).  The runner writes every section except ``expected`` into an empty
folder under its name, beside ``store.zarr``: a synthetic o16 store, 6-hourly from 2020-01-01 to
2020-01-31T18:00 with ``anemoic.datasets.synth.DEFAULT_VARIABLES``, and ``region.zarr`` (``REGION``): the
same variables on the tropical Pacific points of an o32 grid, 6-hourly from 2020-01-01 to 2020-02-10T18:00, the
region of the limited-area cases (with ``store.zarr`` as their boundary), and ``members.zarr``: an o16 store of
two ensemble members over the region's dates.  It then checks the first section
from that folder (``compile_file("<case>.anm")``, so positions read ``<case>.anm:11:69``) and compares
the rendering with ``expected``.  Cases named ``warn_*`` must compile with warnings only, every other
case must have an error.

After an intended change of wording, rewrite the ``expected`` sections (and nothing else) with::

    ANEMOIC_UPDATE_GOLDEN=1 pytest tests/compiler/test_diagnostics.py

A new case: write the file with an empty ``-- expected --`` section, run the line above, review the text.
``tests/compiler/base.anm`` is the valid experiment most cases started from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file
from anemoic.datasets.synth import write_synthetic_store
from tests.golden import assert_golden, format_cases, parse_cases

CASES = Path(__file__).with_name("diagnostics")
CASE_FILES = sorted(CASES.glob("*.txt"))
BASE = Path(__file__).with_name("base.anm")


REGION = {"grid": "o32", "area": (20.0, 150.0, -20.0, 250.0), "start": "2020-01-01", "end": "2020-02-10T18:00"}
"""The limited-area cases' region: north, west, south, east in degrees; ten days past ``store.zarr``'s end."""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    write_synthetic_store(folder / "region.zarr", **REGION)  # type: ignore[arg-type]
    write_synthetic_store(folder / "members.zarr", grid="o16", start="2020-01-01", end="2020-02-10T18:00",
                          ensembles=2)
    return write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")


def check_in_folder(files: list[tuple[str, str]], store: Path, workdir: Path,
                    monkeypatch: pytest.MonkeyPatch) -> tuple[str, bool]:
    """Write ``files`` (the first is checked) beside ``store.zarr``, ``region.zarr`` and ``members.zarr`` (two
    ensemble members) in ``workdir``:
    (rendering, has errors)."""
    (workdir / "store.zarr").symlink_to(store, target_is_directory=True)
    (workdir / "region.zarr").symlink_to(store.with_name("region.zarr"), target_is_directory=True)
    (workdir / "members.zarr").symlink_to(store.with_name("members.zarr"), target_is_directory=True)
    for name, text in files:
        (workdir / name).write_text(text)
    monkeypatch.chdir(workdir)
    result = compile_file(files[0][0])
    return result.render(), result.has_errors()


def test_base_experiment_is_valid(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, errors = check_in_folder([("base.anm", BASE.read_text())], store, tmp_path, monkeypatch)
    assert not errors, text
    assert text == "ok: 1 plan, 0 warnings\n"


def test_cases_are_distinct_files() -> None:
    assert len(CASE_FILES) >= 60
    for path in CASE_FILES:
        _, sections = parse_cases(path.read_text(), str(path))
        names = [name for name, _ in sections]
        assert names[0] == f"{path.stem}.anm", f"{path}: the first section must be `-- {path.stem}.anm --`"
        assert names[-1] == "expected" and names.count("expected") == 1, f"{path}: `-- expected --` comes last"


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_diagnostics(path: Path, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    comment, sections = parse_cases(path.read_text(), str(path))
    files = [(name, body) for name, body in sections if name != "expected"]
    text, errors = check_in_folder(files, store, tmp_path, monkeypatch)
    assert "Traceback" not in text
    assert errors == (not path.stem.startswith("warn_")), text
    assert_golden(format_cases(comment, [*files, ("expected", text)]), path)
