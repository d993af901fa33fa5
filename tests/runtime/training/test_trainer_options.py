"""The plan's training options reach Lightning's Trainer as written; impossible ones are refused."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping

from anemoic.plan.model import RolloutPlan
from anemoic.runtime.training.checkpoints import AtomicCheckpointIO
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.run import build_trainer, total_optimiser_steps
from tests.factories import make_plan


def test_plan_options_become_trainer_options(tmp_path) -> None:
    plan = make_plan(run_dir=str(tmp_path), **{
        "training.precision": "bf16-mixed", "training.accumulate_grad_batches": 3, "training.gradient_clip": 0.5,
        "training.gradient_clip_algorithm": "norm", "training.epochs": 7, "training.time_limit_s": 90,
        "training.deterministic": True})
    early = EarlyStopping(monitor="val/loss")
    trainer = build_trainer(plan, [early], None, max_steps=11)
    assert trainer.precision == "bf16-mixed" and trainer.accumulate_grad_batches == 3
    assert trainer.gradient_clip_val == 0.5 and trainer.gradient_clip_algorithm == "norm"
    assert trainer.max_epochs == 7 and trainer.max_steps == 11
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)
    assert trainer.early_stopping_callback is early and trainer.checkpoint_callback is None
    timer = [c for c in trainer.callbacks if type(c).__name__ == "Timer"]
    assert timer and timer[0]._duration == 90


def test_debug_mode_turns_on_anomaly_detection_and_deterministic_algorithms(tmp_path) -> None:
    plan = make_plan(run_dir=str(tmp_path))
    assert not build_trainer(plan, [], None, max_steps=None)._detect_anomaly
    try:
        trainer = build_trainer(plan, [], None, max_steps=None, debug=True)
        assert trainer._detect_anomaly and torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def test_half_precision_on_cpu_is_refused_with_advice(tmp_path) -> None:
    plan = make_plan(run_dir=str(tmp_path), **{"training.precision": "16-mixed"})
    with pytest.raises(RuntimeUserError, match="16-mixed needs a GPU.*use bf16-mixed or 32"):
        build_trainer(plan, [], None, max_steps=None)


def test_schedule_length_counts_optimiser_steps_per_rank() -> None:
    plan = make_plan(**{"training.epochs": 3, "training.batch_size": 2, "training.accumulate_grad_batches": 2,
                        "parallel.processes_per_node": 2})
    assert total_optimiser_steps(plan, 41, None) == 3 * 5  # 20 samples/rank -> 10 batches -> 5 steps, x 3 epochs
    assert total_optimiser_steps(plan, 41, 4) == 4
    limited = make_plan(**{"training.epochs": 2, "training.limit_batches_per_epoch": 3})
    assert total_optimiser_steps(limited, 100, None) == 6


def test_warm_start_loads_what_fits_and_names_what_does_not() -> None:
    from anemoic.runtime.training.resume import warm_start

    old = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    new = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 5))  # a new output variable
    summary = warm_start(new, old.state_dict())
    assert torch.equal(new[0].weight, old[0].weight)
    assert summary == ("warm start: loaded 2 of 4 tensors from the checkpoint; freshly initialised "
                       "(absent or reshaped): 1.bias, 1.weight")


def test_bf16_mixed_training_with_rollouts_runs_end_to_end(tmp_path) -> None:
    """Under bf16 autocast the model's state comes back float32, so rollouts can feed it into the next window.

    (Found on an H100: the first validation rollout failed with an index_put dtype mismatch.)
    """
    from tests.runtime.training.tiny_run import run_runtime, write_tiny_plan, write_tiny_store

    store = write_tiny_store(tmp_path)
    rollout = RolloutPlan(start=2, maximum=2, validation=3)
    plan = write_tiny_plan(tmp_path, store, **{"training.precision": "bf16-mixed", "training.epochs": 1,
                                               "training.limit_batches_per_epoch": 2, "task.rollout": rollout})
    result = run_runtime("exec", str(plan), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RMSE" in result.stdout
