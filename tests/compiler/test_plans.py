"""Golden plans: what the compiler produces, pinned as the ``plan.json`` text (as CUE pins its IR).

Two kinds of golden:

* **Examples.** ``examples/<name>.anm`` compiles (``compile_file(<absolute path>)``, as ``anemoic check``
  does; without ``require_dataset``, so the examples whose store is absent from this machine lower with
  warning W0101 only and an empty dataset fingerprint) to ``plans/examples/<name>.plan.json``, or for a
  sweep to ``plans/examples/<name>.<member>.plan.json``, one file per member.

* **Language features.** ``plans/<feature>.txt`` is one small experiment per feature, a txtar-like file::

      a one-line description of the feature (free text before the first header)
      -- exp.anm --
      the experiment
      -- sites/hpc.anm --
      further files it imports (optional, any number)
      -- plan.json --
      the plan (a sweep has one section per member instead: plan.0.json, plan.1.json, ...)

  Sections run from their ``-- NAME --`` line to the next header.  The runner writes every section that
  is not a plan into an empty folder beside ``store.zarr`` (the synthetic store of ``feature_store``:
  o16, 6-hourly 2020-01-01 to 2020-01-31T18:00, the variables of ``FEATURE_VARIABLES``, NaNs in ``sst``)
  and ``region.zarr`` (``REGION``: a 12-hourly regional store for limited-area models),
  compiles ``exp.anm`` from that folder with the same call as ``anemoic check``, requires it to compile
  with neither errors nor warnings, and compares the plan sections.

A plan's text is ``anemoic.plan.canonical.canonical_json`` (the bytes of ``plan.json``) with exactly two
things masked: the ``plan_hash`` value (``<hash>``) and absolute paths (the repository root ``<repo>``,
the test's folder ``<tmp>``).  Everything else -- dataset fingerprints, graph cache keys, the source
map -- is pinned, so any change to lowering shows in review.

Regenerate after an intended change of lowering, then read the diff::

    ANEMOIC_UPDATE_GOLDEN=1 pytest tests/compiler/test_plans.py

A new feature: write ``plans/<feature>.txt`` with a description and the ``-- exp.anm --`` section only,
run the line above, review the plan it adds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from anemoic.compiler.api import CompileResult, compile_file
from anemoic.datasets.synth import DEFAULT_VARIABLES, write_synthetic_store
from anemoic.plan.canonical import canonical_json
from tests.golden import assert_golden, format_cases, parse_cases

REPO = Path(__file__).resolve().parents[2]
PLANS = Path(__file__).with_name("plans")
EXAMPLES = sorted((REPO / "examples").glob("*.anm"))
FEATURES = sorted(PLANS.glob("*.txt"))
FEATURE_VARIABLES = (*DEFAULT_VARIABLES, "q_500", "q_850", "cp", "sst", "skt")
REGION = {"grid": "o32", "area": (20.0, 150.0, -20.0, 250.0), "start": "2020-01-01", "end": "2020-01-31T12:00",
          "frequency": "12h"}
"""``region.zarr``, a limited-area model's region (``store.zarr`` its boundary): 12-hourly, the tropical Pacific."""
_HASH = re.compile(r'"plan_hash": "[0-9a-f]{64}"')


def masked_plan_texts(result: CompileResult, folders: dict[str, Path]) -> list[str]:
    """The plan.json text of each plan, with its hash and the absolute paths of ``folders`` masked."""
    spellings = sorted({(str(p), name) for name, p in folders.items()} |
                       {(str(p.resolve()), name) for name, p in folders.items()}, key=lambda s: -len(s[0]))
    texts = []
    for plan in result.plans:
        text, count = _HASH.subn('"plan_hash": "<hash>"', canonical_json(plan))
        assert count == 1, "plan.json has no plan_hash"
        for spelling, name in spellings:
            text = text.replace(spelling, name)
        texts.append(text)
    return texts


def _compiled_cleanly(result: CompileResult, allowed: tuple[str, ...] = ()) -> None:
    assert not result.has_errors(), result.render()
    assert all(d.code in allowed for d in result.diagnostics), result.render()
    assert result.plans, result.render()


# -- examples ---------------------------------------------------------------------------------------------


def _example_goldens(stem: str, count: int) -> list[Path]:
    if count == 1:
        return [PLANS / "examples" / f"{stem}.plan.json"]
    return [PLANS / "examples" / f"{stem}.{i}.plan.json" for i in range(count)]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_plan(path: Path, tmp_path: Path) -> None:
    result = compile_file(path)
    _compiled_cleanly(result, allowed=("W0101",))  # W0101: the example's store is not on this machine
    texts = masked_plan_texts(result, {"<repo>": REPO, "<tmp>": tmp_path})
    goldens = _example_goldens(path.stem, len(texts))
    if any(d.code == "W0101" for d in result.diagnostics) and goldens[0].is_file() \
            and '"fingerprint": ""' not in goldens[0].read_text():
        pytest.skip(f"the store {path.name} names is absent here (the real quickstart store: `make data`)")
    for text, golden in zip(texts, goldens):
        assert_golden(text, golden)


def test_every_example_golden_belongs_to_an_example() -> None:
    expected = {g for p in EXAMPLES for g in _example_goldens(p.stem, len(compile_file(p).plans))}
    assert set((PLANS / "examples").glob("*.plan.json")) == expected


# -- language features ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feature_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    write_synthetic_store(folder / "region.zarr", **REGION)  # type: ignore[arg-type]
    return write_synthetic_store(folder / "store.zarr", grid="o16",
                                 variables=FEATURE_VARIABLES, start="2020-01-01", end="2020-01-31T18:00",
                                 nan_variables=("sst",), nan_fraction=0.3)


def _plan_section(name: str) -> bool:
    return re.fullmatch(r"plan(\.\d+)?\.json", name) is not None


def compile_feature(path: Path, store: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
                    ) -> tuple[str, list[tuple[str, str]], CompileResult]:
    """Write the case's files beside ``store.zarr`` in ``workdir`` and compile ``exp.anm`` from there."""
    comment, sections = parse_cases(path.read_text(), str(path))
    files = [(name, body) for name, body in sections if not _plan_section(name)]
    assert files and files[0][0] == "exp.anm", f"{path}: the first section must be `-- exp.anm --`"
    (workdir / "store.zarr").symlink_to(store, target_is_directory=True)
    (workdir / "region.zarr").symlink_to(store.with_name("region.zarr"), target_is_directory=True)
    for name, body in files:
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(body)
    monkeypatch.chdir(workdir)
    return comment, files, compile_file("exp.anm")


@pytest.mark.parametrize("path", FEATURES, ids=[p.stem for p in FEATURES])
def test_feature_plan(path: Path, feature_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    comment, files, result = compile_feature(path, feature_store, tmp_path, monkeypatch)
    _compiled_cleanly(result)
    texts = masked_plan_texts(result, {"<repo>": REPO, "<tmp>": tmp_path})
    names = ["plan.json"] if len(texts) == 1 else [f"plan.{i}.json" for i in range(len(texts))]
    assert_golden(format_cases(comment, [*files, *zip(names, texts)]), path)


def test_features_are_described_and_cover_the_language() -> None:
    names = {p.stem for p in FEATURES}
    for path in FEATURES:
        comment, _ = parse_cases(path.read_text(), str(path))
        assert comment.strip(), f"{path}: say in a line before `-- exp.anm --` which feature it pins"
    assert {"imputers", "remap_bound", "forcings", "prediction_tendency", "rollout_schedule", "sweep", "site",
            "processor_graphtransformer", "processor_gnn", "processor_transformer", "processor_mlp",
            "mesh_icosahedral", "mesh_healpix", "mesh_latlon", "mesh_stretched", "tracking_off",
            "tracking_block", "outputs_steps", "outputs_minutes"} <= names


def test_masking_keeps_everything_but_the_hash_and_the_folders(feature_store: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A golden that masked too much would prove nothing: one changed setting must change the text."""
    case = PLANS / "tracking_off.txt"
    edited = tmp_path / "edited.txt"
    edited.write_text(case.read_text().replace("epochs = 1;", "epochs = 2;", 1))
    texts = []
    for source, folder in ((case, tmp_path / "a"), (edited, tmp_path / "b")):
        folder.mkdir()
        result = compile_feature(source, feature_store, folder, monkeypatch)[2]
        texts.append(masked_plan_texts(result, {"<repo>": REPO, "<tmp>": folder})[0])
    a, b = texts
    assert '"plan_hash": "<hash>"' in a and '"path": "<tmp>/store.zarr"' in a and str(tmp_path) not in a
    assert [line for line in b.splitlines() if line not in a.splitlines()] == ['    "epochs": 2,']
