"""The pre-flight check: one step at the largest rollout and full batch before training, real CLI runs."""

from __future__ import annotations

import dataclasses
import re
import resource
import subprocess
from pathlib import Path

import torch

from anemoic.compiler.estimates import with_estimates
from anemoic.plan.io import write_plan
from anemoic.runtime.training.checkpoints import list_checkpoints, load_checkpoint
from anemoic.runtime.training.preflight import EXIT_OUT_OF_MEMORY, advice
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import child_env, run_runtime, runtime_command, tiny_plan, write_tiny_store

GOLDEN = Path(__file__).parent / "golden"
QUIET = {"outputs.tracking.enabled": False, "training.num_workers": 0}
# 64 samples of 1024 channels, rollout 2 in the last epoch: the step needs several GiB of address space more
# than the process before it (~2.4 GiB at rollout 1)
OVERSIZED = {**QUIET, "training.batch_size": 64, "model.channels": 1024, "model.heads": 4,
             "training.limit_batches_per_epoch": 1}


def write(directory: Path, store: Path, name: str, **overrides: object) -> Path:
    plan, _ = with_estimates(tiny_plan(store, directory / name, **overrides))
    path = directory / f"{name}.json"
    write_plan(plan, path)
    return path


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])["state_dict"]


def test_the_check_prints_its_peak_next_to_the_estimate_and_leaves_training_bitwise_unchanged(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    on = write(tmp_path, store, "on", **QUIET, **{"training.batch_size": 2})
    off = write(tmp_path, store, "off", **QUIET, **{"training.batch_size": 2, "training.preflight": False})
    checked = run_runtime("exec", str(on), "--max-steps", "3", cwd=tmp_path)
    unchecked = run_runtime("exec", str(off), "--max-steps", "3", cwd=tmp_path)
    assert checked.returncode == 0 and unchecked.returncode == 0, checked.stderr[-2000:] + unchecked.stderr[-2000:]
    line = next(x for x in checked.stdout.splitlines() if x.startswith("pre-flight"))
    # the tiny plan's rollout grows to 2 in its last epoch: the check runs that, not epoch 1's rollout of 1
    assert re.fullmatch(r"pre-flight check ok: one training step \(batch 2, rollout 2\): peak resident memory "
                        r"rose [\d.]+ MiB on the CPU; estimate [\d.]+ MiB: [\d.]+ MiB activations \+ [\d.]+ MiB "
                        r"weights, gradients and optimiser state", line), line
    assert "pre-flight" not in unchecked.stdout
    a, b = final_weights(tmp_path / "on"), final_weights(tmp_path / "off")
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k].numpy().tobytes() != b[k].numpy().tobytes()]  # bits: NaN == NaN here
    assert not differ, differ
    assert (tmp_path / "on" / "report.txt").read_text() == (tmp_path / "off" / "report.txt").read_text()
    flagged = run_runtime("exec", str(on), "--max-steps", "1", "--no-preflight", cwd=tmp_path)
    assert flagged.returncode == 0 and "pre-flight" not in flagged.stdout, flagged.stderr[-2000:]


def address_space_after_imports() -> int:
    """Bytes of address space the CLI's process holds once torch, Lightning and the runtime are imported."""
    probe = ("import anemoic.cli.anemoi_runtime, anemoic.runtime.training.run\n"
             "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak')))")
    out = subprocess.run([runtime_command()[0], "-c", probe], env=child_env(), capture_output=True, text=True,
                         check=True)
    return int(out.stdout) * 1024


def capped_exec(plan: Path, cwd: Path, cap: int, *flags: str) -> subprocess.CompletedProcess:
    def limit() -> None:  # a real limit: allocations past it fail in the child as they would on a full machine
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return subprocess.run(runtime_command("exec", str(plan), *flags), cwd=cwd, env=child_env(), preexec_fn=limit,
                          capture_output=True, text=True, timeout=120)


def test_an_oversized_plan_fails_the_check_under_a_memory_cap_with_advice(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan = write(tmp_path, store, "big", **OVERSIZED)
    cap = address_space_after_imports() + 1024**3  # start-up fits (~0.45 GiB more), the step (~2.4 GiB) does not
    result = capped_exec(plan, tmp_path, cap)
    assert result.returncode == EXIT_OUT_OF_MEMORY, result.stderr[-3000:]
    message = result.stderr[result.stderr.index("error: pre-flight"):]
    assert "Traceback" not in result.stderr
    # what it had used when an allocation failed depends on the allocator's path: shown, not compared
    shown = re.sub(r"it had used [\d.]+ [MG]iB and failed to allocate [\d.]+ [MG]iB more",
                   "it had used X and failed to allocate Y more", message)
    assert_golden(shown, GOLDEN / "preflight_out_of_memory.txt")
    assert not list_checkpoints(tmp_path / "big" / "checkpoints")


def test_the_advice_names_only_what_the_plan_allows() -> None:
    plan, _ = with_estimates(tiny_plan(Path("tiny.zarr"), Path("run"), **{"training.batch_size": 1}))
    plan = dataclasses.replace(plan, model=dataclasses.replace(plan.model, gradient_checkpointing=True, num_chunks=4))
    text = advice(plan, rollout=1, batch=1, device="GPU", reached=80 * 1024**3, attempted=2 * 1024**3)
    assert_golden(text + "\n", GOLDEN / "preflight_advice_checkpointed.txt")
    downscaler = dataclasses.replace(plan, task=dataclasses.replace(plan.task, kind="temporal_downscaler"))
    assert "gpus_per_model" not in advice(downscaler, rollout=1, batch=1, device="GPU", reached=1, attempted=None)
