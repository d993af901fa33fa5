"""`anemoi-runtime` as a user meets it: refusals are one clear message (golden) and exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from anemoic.plan.io import read_plan, write_plan
from anemoic.cli.anemoi_runtime import main
from tests.factories import make_plan
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import TrainedRun, trained_run, write_tiny_plan  # noqa: F401

GOLDEN = Path(__file__).parent / "golden"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _anonymise(text: str, *directories: Path) -> str:
    for directory in directories:
        text = text.replace(str(directory), "<tmp>")
    return re.sub(r"step-\d{8}\.ckpt", "step-N.ckpt", text)


def test_missing_plan_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "exec", str(tmp_path / "nope.json"))
    assert code == 2 and out == ""
    assert_golden(_anonymise(err, tmp_path), GOLDEN / "exec_missing_plan.txt")


def test_edited_plan_is_refused_without_traceback(tmp_path: Path, trained_run: TrainedRun,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(trained_run.plan.read_text())
    data["training"]["batch_size"] = 64  # edited by hand after `anemoic build`: the hash no longer matches
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, _, err = _run(capsys, "exec", str(edited))
    assert code == 2 and err.startswith("error:") and "Traceback" not in err


def test_resume_with_an_incompatible_plan_names_the_differences(trained_run: TrainedRun,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    same = read_plan(trained_run.plan)
    wider = write_tiny_plan(trained_run.directory, trained_run.store, "wider.json", run="run-wider",
                            **{"model.channels": 24, "training.epochs": 1, "training.limit_batches_per_epoch": 3,
                               "training.ema_decay": 0.9, "outputs.tracking": same.outputs.tracking})
    code, out, err = _run(capsys, "exec", str(wider), "--resume", str(trained_run.run_dir))
    assert code == 2
    assert_golden(_anonymise(err, trained_run.directory), GOLDEN / "resume_incompatible.txt")


def test_resume_with_a_changed_rollout_warm_starts_a_new_run(trained_run: TrainedRun,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    changed = write_tiny_plan(trained_run.directory, trained_run.store, "rollout.json", run="run-warm",
                              **{"task.rollout.increment": 0, "training.epochs": 1,
                                 "training.limit_batches_per_epoch": 3, "training.ema_decay": 0.9})
    code, out, err = _run(capsys, "exec", str(changed), "--resume", str(trained_run.run_dir), "--max-steps", "1")
    assert code == 0, err
    assert "warm-starting a new run from the weights of" in out and "task.rollout.increment: 1 -> 0" in out
    assert (trained_run.directory / "run-warm" / "checkpoints" / "step-00000001.ckpt").exists()


def test_dry_run_builds_everything_and_takes_one_step(trained_run: TrainedRun,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "exec", str(trained_run.plan), "--dry-run")
    assert code == 0, err
    assert re.fullmatch(
        r"dry run of test ok \(plan [0-9a-f]{12}\)\n"
        r"  store    .*tiny\.zarr: 77 training and 17 validation samples, 128 grid points\n"
        r"  graph    data 128 nodes, hidden 42 nodes; edges encoder \d+, processor \d+, decoder 384\n"
        r"  model    graphtransformer, [\d,]+ parameters\n"
        r"  step     one forward/backward pass: loss [\d.e+-]+ in [\d.]+ s\n", out)


def test_end_of_run_report_is_printed_after_training(trained_run: TrainedRun) -> None:
    report = trained_run.stdout[trained_run.stdout.index("End of run test"):]
    assert report == (trained_run.run_dir / "report.txt").read_text()
    rows = [line.split() for line in report.splitlines()[5:-2]]
    assert [r[:2] for r in rows[:2]] == [["z_500", "+6h"], ["z_500", "+12h"]]
    assert len(rows) == 2 * 9  # every output variable at leads 1 and 2


def test_predict_outside_the_store_is_refused(trained_run: TrainedRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "predict", str(trained_run.run_dir), "--date", "2020-01-25T12:00", "--steps", "4",
                        "-o", str(trained_run.directory / "late.zarr"))
    assert code == 2
    assert_golden(_anonymise(err, trained_run.directory), GOLDEN / "predict_outside_store.txt")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible: --device cuda is valid here")
def test_predict_on_a_missing_gpu_is_refused(trained_run: TrainedRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "predict", str(trained_run.run_dir), "--date", "2020-01-21T12:00", "--steps", "1",
                        "--device", "cuda", "-o", str(trained_run.directory / "gpu.zarr"))
    assert code == 2
    assert_golden(err, GOLDEN / "predict_no_gpu.txt")


def test_evaluate_of_a_missing_forecast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "evaluate", str(tmp_path / "f.zarr"))
    assert code == 2
    assert_golden(_anonymise(err, tmp_path), GOLDEN / "evaluate_missing.txt")


def test_predict_with_a_date_that_is_not_one(trained_run: TrainedRun, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "predict", str(trained_run.run_dir), "--date", "yesterday", "--steps", "1")
    assert (code, err) == (2, "error: --date 'yesterday' is not a date; write it as 2020-01-21 or 2020-01-21T06:00\n")


SHARDED = {"parallel.processes_per_node": 4, "parallel.gpus_per_model": 4, "parallel.data_parallel_size": 1}
SRUN_3_TASKS = {"SLURM_NTASKS": "3", "SLURM_NTASKS_PER_NODE": "3", "SLURM_JOB_NAME": "train", "SLURM_JOB_ID": "7"}


@pytest.mark.parametrize("name, overrides, environment", [
    ("missing_store", {}, {}),
    # srun started 3 tasks for a plan of 4 (model groups of 4): refused before anything is built
    ("layout_not_the_started_ranks", SHARDED, SRUN_3_TASKS),
    # a hand-made plan: 8 ranks cannot split 4 heads (the compiler's E1003 refuses this at check time)
    ("more_shards_than_heads", {**SHARDED, "parallel.processes_per_node": 8, "parallel.gpus_per_model": 8,
                                "parallel.shard_strategy": "heads", "model.heads": 4}, {}),
])
def test_plans_this_runtime_cannot_run_are_refused(name: str, overrides: dict, environment: dict, tmp_path: Path,
                                                   trained_run: TrainedRun, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    store = tmp_path / "absent.zarr" if name == "missing_store" else trained_run.store
    plan = tmp_path / "plan.json"
    write_plan(make_plan(str(store), str(tmp_path / "run"), **overrides), plan)
    code, out, err = _run(capsys, "exec", str(plan))
    assert (code, out) == (2, "")
    assert_golden(_anonymise(err, tmp_path), GOLDEN / f"exec_{name}.txt")
