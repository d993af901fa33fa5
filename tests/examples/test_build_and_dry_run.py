"""Every example builds (`anemoic build`) and its plans dry-run (`anemoi-runtime exec --dry-run`).

Both commands run in this process through their CLI ``main`` functions, from a fresh folder (the run
directory, its graph cache and the build output land there).

* Examples whose store is on this machine (``quickstart.anm``, ``quickstart_sweep.anm``, ``ensemble.anm``,
  ``temporal_downscale.anm`` and ``temporal_downscale_ensemble.anm`` read the real store
  ``data/pacific-sst-wind-5deg.zarr``; ``spatial_downscale.anm`` and ``spatial_downscale_ensemble.anm`` that
  store and its coarse twin ``data/pacific-sst-wind-10deg.zarr``) are built as they are; every member of a
  sweep dry-runs.
* Examples whose store is absent (``aifs_o96.anm``, ``stretched_europe.anm``: ERA5 at O96, 1979-2022)
  run against a synthetic store (``anemoic.datasets.synth``, o16) holding exactly the store variables the
  example uses.  Writing it over the example's 40 years would take about 10 GB even on o8, so the test
  builds a *copy* of the example in which only the ``train`` / ``validate`` / ``test`` lines of the
  dataset block are rewritten to three short consecutive windows of the synthetic store (the store path
  is kept as written; the store is put where it points, inside the test's folder).  The test checks that
  the copy's plan equals the example's own plan outside the dataset (and the values derived from it).

Measured on the 2 shared CPU cores of the development machine (no GPU, TRITON_INTERPRET=1); the build
takes about a second each, the rest is the dry-run:

    quickstart            6 s in pytest, most of it importing torch (0.15 s forward/backward), 0.6 GB
    quickstart_sweep      2 s in pytest for its 6 members
    stretched_europe      69 s in pytest (42 s forward/backward of 12 x 512 channels), 2.1 GB
    aifs_o96              316 s as a process (307 s forward/backward of 16 x 1024 channels on the
                          10,242-node mesh, 227 M parameters), 4.9 GB
    reduced-size variants 7-9 s each (aifs_o96's graph alone takes a few seconds)

So the two ERA5-sized examples dry-run at full size only with ``ANEMOIC_SLOW=1`` (``@pytest.mark.slow``).
The default suite still builds them and dry-runs the built plan through the same code path at a reduced
size: the plan written by ``anemoic build`` is read, its model is narrowed to ``REDUCED_MODEL`` (one
processor block of 64 channels; graph, data, loss, task and everything else as built) and written back
with ``write_plan``; no example is edited.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil
from pathlib import Path

import pytest

from anemoic.cli.anemoi_runtime import main as runtime_main
from anemoic.cli.anemoic import main as anemoic_main
from anemoic.compiler.api import compile_file
from anemoic.plan.units import format_duration
from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.convert import plan_to_dict
from anemoic.plan.io import read_plan, write_plan
from anemoic.plan.model import Plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.anm"))
FULL_SIZE_IS_SLOW = ("aifs_o96", "stretched_europe")  # minutes on a CPU: see the table above
REDUCED_MODEL = {"layers": 1, "channels": 64}
SYNTHETIC_GRID = "o16"
WINDOWS = {"train": (0, 32), "validate": (32, 56), "test": (56, 80)}  # time steps of the synthetic store
SYNTHETIC_START = datetime.datetime(2020, 1, 1)
# Plan fields that follow from the dataset block and the store (everything else must match the example;
# ``_without`` also drops the graph's cache key and each variable's store column).
DATASET_DERIVED = ("dataset", "estimates", "source_map")


def _store_is_present(path: Path) -> bool:
    return not any(d.code == "W0101" for d in compile_file(path).diagnostics)


def _periods(frequency_s: int) -> dict[str, str]:
    assert frequency_s < 28 * 86400, "monthly data: extend _periods to calendar months"
    step = datetime.timedelta(seconds=frequency_s)
    return {name: f"{(SYNTHETIC_START + first * step).isoformat(timespec='minutes')}.."
                  f"{(SYNTHETIC_START + (last - 1) * step).isoformat(timespec='minutes')}"
            for name, (first, last) in WINDOWS.items()}


def synthetic_copy(example: Path, root: Path) -> Path:
    """A copy of ``example`` (and the files beside it) under ``root`` whose dataset block names short
    periods of a synthetic store written where the example's store path points."""
    original = compile_file(example).plans[0]
    shutil.copytree(example.parent, root / "examples")  # the example and the modules beside it
    copy = root / "examples" / example.name
    text = example.read_text()
    store = Path(re.search(r'zarr\("([^"]+)"\)', text).group(1))
    store = (copy.parent / store).resolve()
    assert store.is_relative_to(root.resolve()), f"{example.name}: its store path leaves the test folder"
    periods = _periods(original.dataset.frequency_s)
    for name, period in periods.items():
        text, count = re.subn(rf"(?m)^(\s*{name}\s*=\s*)\S+(.*)$", rf"\g<1>{period}\g<2>", text)
        assert count == (1 if getattr(original.dataset, name) is not None else 0), (example.name, name)
    copy.write_text(text)
    last = SYNTHETIC_START + (WINDOWS["test"][1] - 1) * datetime.timedelta(seconds=original.dataset.frequency_s)
    write_synthetic_store(store, grid=SYNTHETIC_GRID, start=SYNTHETIC_START.isoformat(), end=last.isoformat(),
                          frequency=format_duration(original.dataset.frequency_s),
                          variables=[v.name for v in original.variables if v.computed is None])
    return copy


def _without(plan: Plan, keys: tuple[str, ...]) -> dict:
    data = plan_to_dict(plan)
    data["graph"].pop("cache_key")  # a hash over the recipe and the store's fingerprint
    for variable in data["variables"]:
        variable.pop("store_index")  # the column in the store (without a store: the declaration order)
    return {k: v for k, v in data.items() if k not in keys}


def build(source: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> list[Path]:
    """`anemoic build SOURCE -o OUT`: the plan files it wrote (one per sweep member)."""
    code = anemoic_main(["build", str(source), "-o", str(out)])
    text = capsys.readouterr()
    assert code == 0, text.out + text.err
    plans = [out / "plan.json"] if (out / "plan.json").is_file() else \
        sorted(out.glob("*/plan.json"), key=lambda p: int(p.parent.name))
    assert plans and f"built {len(plans)} plan" in text.out, text.out
    return plans


def dry_run(plan_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """`anemoi-runtime exec PLAN --dry-run`: its output, after checking it names the plan and succeeded."""
    code = runtime_main(["exec", str(plan_file), "--dry-run"])
    text = capsys.readouterr()
    assert code == 0, text.out + text.err
    plan_hash = json.loads(plan_file.read_text())["plan_hash"]
    assert re.search(rf"^dry run of \S+ ok \(plan {plan_hash[:12]}\)$", text.out, re.M), text.out
    loss = re.search(r"one forward/backward pass: loss (\S+) in", text.out)
    assert loss and float(loss.group(1)) == float(loss.group(1)), text.out  # a number, not nan
    return text.out


def built_plans(example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[Path]:
    """Build ``example`` (or its synthetic-store copy) into ``tmp_path/build``."""
    if _store_is_present(example):
        return build(example, tmp_path / "build", capsys)
    copy = synthetic_copy(example, tmp_path)
    plans = build(copy, tmp_path / "build", capsys)
    original = compile_file(example).plans[0]
    assert _without(read_plan(plans[0]), DATASET_DERIVED) == _without(original, DATASET_DERIVED)
    return plans


def _full_size(stem: str) -> list:
    return [pytest.mark.slow, pytest.mark.timeout(1800)] if stem in FULL_SIZE_IS_SLOW else []


@pytest.mark.parametrize("example", [pytest.param(p, id=p.stem, marks=_full_size(p.stem)) for p in EXAMPLES])
def test_example_builds_and_dry_runs(example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    plans = built_plans(example, tmp_path, capsys)
    assert len(plans) == len(compile_file(example).plans)
    for plan_file in plans:
        dry_run(plan_file, capsys)


@pytest.mark.parametrize("stem", FULL_SIZE_IS_SLOW)
def test_large_example_dry_runs_at_reduced_size(stem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (plan_file,) = built_plans(REPO / "examples" / f"{stem}.anm", tmp_path, capsys)
    plan = read_plan(plan_file)
    reduced = dataclasses.replace(plan, model=dataclasses.replace(plan.model, **REDUCED_MODEL))
    assert plan.model.channels % plan.model.heads == 0 == REDUCED_MODEL["channels"] % plan.model.heads
    small = tmp_path / "reduced" / "plan.json"
    small.parent.mkdir()
    write_plan(reduced, small)
    out = dry_run(small, capsys)
    assert f"model    {plan.model.processor}," in out


# the examples of several datasets on real data (limited-area, stretched-grid, spatial downscaling)
TRAINED_EXAMPLES = ("lam_pacific", "stretched_pacific", "spatial_downscale", "spatial_downscale_ensemble")
"""Examples that also train a few steps here (``exec``): the plan as built, with one epoch of two batches."""


@pytest.mark.parametrize("stem", TRAINED_EXAMPLES)
def test_example_trains_a_few_steps(stem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    example = REPO / "examples" / f"{stem}.anm"
    if not _store_is_present(example):
        pytest.skip(f"{stem}: its stores are not on this machine (`make data`)")
    monkeypatch.chdir(tmp_path)
    (plan_file,) = build(example, tmp_path / "build", capsys)
    plan = read_plan(plan_file)
    short = dataclasses.replace(plan, training=dataclasses.replace(plan.training, epochs=1,
                                                                   limit_batches_per_epoch=2),
                                outputs=dataclasses.replace(plan.outputs, run_dir=str(tmp_path / "run")))
    small = tmp_path / "short" / "plan.json"
    small.parent.mkdir()
    write_plan(short, small)
    code = runtime_main(["exec", str(small)])
    text = capsys.readouterr()
    assert code == 0, text.out + text.err
    report = (tmp_path / "run" / "report.txt").read_text()
    expected = {"stretched": "nothing is forced (a stretched grid)", "lam": "is forced, not scored",
                "spatial": "bilinear"}[stem.split("_")[0]]
    assert expected in report, report
