"""`checkpoint convert`: a training checkpoint becomes weights.safetensors + metadata.json; the model built from that
pair alone predicts bit for bit what the training checkpoint's model predicts (deterministic and ensemble); a
convert that fails or is killed mid-write leaves nothing visible."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME, WEIGHTS_NAME, load_inference
from anemoic.runtime.inference.loading import load_training
from anemoic.runtime.inference.predict import predict
from anemoic.runtime.training.checkpoints import list_checkpoints
from tests.golden import assert_golden
from tests.runtime.training.test_ensemble_run import ENSEMBLE
from tests.runtime.training.tiny_run import (  # noqa: F401
    REPO, TrainedRun, child_env, run_runtime, trained_run, write_tiny_plan, write_tiny_store,
)

GOLDEN = Path(__file__).parent / "golden"


def _normalise(text: str, *paths: Path) -> str:
    for path in paths:
        text = text.replace(str(path), "TMP")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    return re.sub(r"[\d.]+ MB", "N MB", text)


def _converted(run: TrainedRun, name: str) -> Path:
    output = run.directory / name
    if not output.exists():
        assert convert_command([str(run.run_dir)], output=str(output)) == 0
    (found,) = [p for p in output.iterdir() if not p.name.startswith(".")]
    return found


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    directory = tmp_path_factory.mktemp("ensemble-convert")
    store = write_tiny_store(directory)
    plan = write_tiny_plan(directory, store, **{**ENSEMBLE, "training.epochs": 1, "training.limit_batches_per_epoch": 3,
                                                "training.ema_decay": 0.9})
    result = run_runtime("exec", str(plan), cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return TrainedRun(directory, store, plan, directory / "run", result.stdout)


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory: pytest.TempPathFactory) -> TrainedRun:
    """Two gloo ranks, one model group (``gpus_per_model = 2``, edges sharded), a store with imputed NaNs."""
    from tests.runtime.distributed.layouts import train, write_store

    directory = tmp_path_factory.mktemp("sharded-convert")
    store = write_store(directory)
    run = train(directory, store, "model2")
    return TrainedRun(run.directory, store, run.directory / "plan.json", run.directory / "run", run.stdout)


@pytest.mark.parametrize("which", ["deterministic", "ensemble", "sharded"])
def test_round_trip_predicts_bit_for_bit_what_the_training_checkpoint_predicts(
        which: str, request: pytest.FixtureRequest) -> None:
    run = request.getfixturevalue({"deterministic": "trained_run", "ensemble": "ensemble_run",
                                   "sharded": "sharded_run"}[which])
    folder = _converted(run, "inference")
    trained, _, path, _, _, ema = load_training(run.run_dir)
    loaded = load_inference(folder)
    assert ema == (which != "sharded") and not trained.training and not loaded.module.training
    assert (trained.plan.parallel.gpus_per_model == 2) == (which == "sharded")
    mine, theirs = trained.state_dict(), loaded.module.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(mine[k].dtype == theirs[k].dtype and mine[k].numpy().tobytes() == theirs[k].numpy().tobytes()
               for k in mine)  # bit for bit (torch.equal says NaN != NaN: the imputer's unused fill values)
    from_training = predict(str(path), "2020-01-22T06:00", 3, device="cpu")
    from_inference = predict(str(folder), "2020-01-22T06:00", 3, device="cpu")
    members = 4 if which == "ensemble" else 1
    assert from_training.fields.shape == (4, members, 128, 9)
    assert from_training.fields.tobytes() == from_inference.fields.tobytes()  # bit for bit, NaNs of the analysis too
    assert from_inference.info["plan_hash"] == from_training.info["plan_hash"]
    if which == "ensemble":
        assert np.abs(from_inference.fields[1:, 0] - from_inference.fields[1:, 1]).max() > 0


def test_metadata_names_everything_inference_needs(trained_run: TrainedRun) -> None:  # noqa: F811
    folder = _converted(trained_run, "inference")
    metadata = json.loads((folder / METADATA_NAME).read_text())
    assert metadata["format"] == "anemoic-inference-checkpoint" and metadata["format_version"] == 1
    assert metadata["plan_hash"] == metadata["plan"]["plan_hash"]
    by_name = {v["name"]: v for v in metadata["variables"]}
    assert by_name["2t"]["role"] == "prognostic" and by_name["tp"]["role"] == "diagnostic"
    assert by_name["tp"]["input_index"] is None and by_name["tp"]["output_index"] == 8
    assert metadata["timesteps"] == {"timestep_s": 21600, "multistep_input": 2, "input_offsets_s": [-21600, 0],
                                     "dataset_frequency_s": 21600}
    assert metadata["grid"]["size"] == 128 == len(metadata["grid"]["latitudes"]) == len(metadata["grid"]["longitudes"])
    assert set(metadata["normaliser"]["2t"]) == {"normaliser", "offset", "scale"}
    parent = metadata["provenance"]["parent"]
    assert parent["path"].endswith(".ckpt") and len(parent["sha256"]) == 64 and parent["global_step"] == 3
    assert {"anemoic", "torch", "safetensors"} <= set(metadata["provenance"]["packages"])
    assert metadata["provenance"]["git_revision"] is None or len(metadata["provenance"]["git_revision"]) == 40
    assert re.fullmatch(r"[0-9a-f-]{36}", metadata["uuid"])
    from safetensors import safe_open

    with safe_open(str(folder / WEIGHTS_NAME), "pt") as weights:
        assert weights.metadata()["uuid"] == metadata["uuid"]


def test_the_cli_converts_several_and_never_overwrites(trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    first, second = list_checkpoints(trained_run.run_dir / "checkpoints")[-2:]
    done = run_runtime("checkpoint", "convert", str(first), str(second), "-o", str(tmp_path / "out"),
                       cwd=trained_run.directory)
    assert done.returncode == 0, done.stderr
    again = run_runtime("checkpoint", "convert", str(second), "-o", str(tmp_path / "out"), cwd=trained_run.directory)
    assert again.returncode == 2 and again.stdout == ""
    assert_golden(_normalise(done.stdout + again.stderr, trained_run.run_dir, tmp_path), GOLDEN / "convert.txt")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"test-{first.stem}", f"test-{second.stem}"]


def _convert_with_file_size_limit(run: TrainedRun, output: Path, killed: bool) -> subprocess.CompletedProcess:
    """A real convert whose writes stop at 20 kB (RLIMIT_FSIZE): with SIGXFSZ at its default action the kernel
    kills the process in the middle of writing the weights; with SIGXFSZ ignored (Python's own default) the
    write fails with EFBIG."""
    code = ("import resource, runpy, signal, sys\n"
            + ("signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n" if killed else "")
            + "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
            f"sys.argv = ['anemoi-runtime', 'checkpoint', 'convert', {str(run.run_dir)!r}, '-o', {str(output)!r}]\n"
            "runpy.run_module('anemoic.cli.anemoi_runtime', run_name='__main__')\n")
    output.mkdir()
    env = {**child_env(), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=run.directory, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_convert_killed_mid_write_leaves_nothing_visible(trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    output = tmp_path / "out"
    done = _convert_with_file_size_limit(trained_run, output, killed=True)
    assert done.returncode == -signal.SIGXFSZ, done.stderr
    (left,) = list(output.iterdir())  # the writer's hidden temporary, with the weights cut at the limit
    assert left.name.startswith(".tmp-") and (left / WEIGHTS_NAME).stat().st_size == 20000
    assert not (left / METADATA_NAME).exists()
    assert convert_command([str(trained_run.run_dir)], output=str(output)) == 0  # removes the dead writer's temporary
    (written,) = list(output.iterdir())
    assert not written.name.startswith(".") and load_inference(written).module is not None


def test_a_convert_whose_write_fails_says_so_and_leaves_nothing(trained_run: TrainedRun, tmp_path: Path) -> None:  # noqa: F811
    output = tmp_path / "out"
    done = _convert_with_file_size_limit(trained_run, output, killed=False)
    assert done.returncode == 2 and list(output.iterdir()) == []
    assert_golden(_normalise(done.stderr, tmp_path), GOLDEN / "convert_write_fails.txt")


def test_a_running_writers_temporary_is_kept(tmp_path: Path) -> None:
    from anemoic.runtime.inference.convert import remove_stale_temporaries

    mine, dead = tmp_path / f".tmp-{os.getpid()}-abc", tmp_path / ".tmp-999999999-abc"
    mine.mkdir(), dead.mkdir()
    remove_stale_temporaries(tmp_path)
    assert mine.exists() and not dead.exists()


def test_an_inference_checkpoint_cannot_be_resumed_or_converted_again(trained_run: TrainedRun) -> None:  # noqa: F811
    folder = _converted(trained_run, "inference")
    for args in (["exec", str(trained_run.plan), "--resume", str(folder)],
                 ["checkpoint", "convert", str(folder), "-o", str(trained_run.directory / "again")]):
        done = run_runtime(*args, cwd=trained_run.directory)
        assert done.returncode == 2
        assert_golden(_normalise(done.stderr, trained_run.directory), GOLDEN / "convert_inference_again.txt")


def test_compare_scores_an_inference_checkpoint_like_its_training_checkpoint(trained_run: TrainedRun) -> None:  # noqa: F811
    from anemoic.runtime.inference.compare import compare

    folder = _converted(trained_run, "inference")
    lines = compare([str(folder), str(trained_run.run_dir)], leads=1).splitlines()
    rows = [line.split()[-5:] for line in lines[5:]]  # per variable: the two runs, persistence, climatology
    assert len(rows) == 4 * 9 and all(rows[i][1:] == rows[i + 1][1:] for i in range(0, len(rows), 4))
