"""SIGKILL a training run mid-epoch after a checkpoint, resume it, and get bit-identical weights."""

from __future__ import annotations

import signal
from pathlib import Path

import torch

from anemoic.runtime.training.checkpoints import list_checkpoints, load_checkpoint
from tests.runtime.training.tiny_run import exec_and_kill_after_a_new_checkpoint, run_runtime, write_tiny_plan, \
    write_tiny_store

FINAL_STEP = 16  # 2 epochs x 8 batches


def _final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    """Model weights and buffers, and the EMA's shadow weights, of the last checkpoint."""
    checkpoints = list_checkpoints(run_dir / "checkpoints")
    assert checkpoints[-1].name == f"step-{FINAL_STEP:08d}.ckpt"
    content = load_checkpoint(checkpoints[-1])
    (ema,) = [state for key, state in content["callbacks"].items() if key.startswith("ExponentialMovingAverage")]
    return {**content["state_dict"], **{f"ema:{k}": v for k, v in ema["shadow"].items()}}


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted_run(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    plan_a = write_tiny_plan(tmp_path, store, "a.json", run="run-a", **{"training.ema_decay": 0.9})
    plan_b = write_tiny_plan(tmp_path, store, "b.json", run="run-b", **{"training.ema_decay": 0.9})

    uninterrupted = run_runtime("exec", str(plan_a), cwd=tmp_path)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]

    assert exec_and_kill_after_a_new_checkpoint(plan_b, tmp_path / "run-b", tmp_path) == -signal.SIGKILL
    survivors = list_checkpoints(tmp_path / "run-b" / "checkpoints")
    killed_at = load_checkpoint(survivors[-1])
    assert 0 < killed_at["global_step"] < FINAL_STEP and killed_at["global_step"] % 8 != 0  # mid-epoch
    for path in survivors:  # every file a reader can see is complete
        assert "state_dict" in load_checkpoint(path)

    resumed = run_runtime("exec", str(plan_b), "--resume", str(tmp_path / "run-b"), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming {survivors[-1]}" in resumed.stdout

    expected, actual = _final_weights(tmp_path / "run-a"), _final_weights(tmp_path / "run-b")
    assert expected.keys() == actual.keys()
    for name in expected:  # bit-identical; NaN fill values (unused imputers) compare equal to NaN
        a, b = expected[name], actual[name]
        if a.is_floating_point():
            assert torch.equal(a.isnan(), b.isnan()), name
            a, b = a.nan_to_num(), b.nan_to_num()
        assert torch.equal(a, b), name
    assert not [p for p in (tmp_path / "run-b" / "checkpoints").iterdir() if p.name.startswith(".tmp-")]
