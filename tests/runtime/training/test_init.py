"""`train.init`: a forecaster starts from an autoencoder's encoder and decoder, exactly, with a fresh processor;
a checkpoint that does not fit, or none, stops the run in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anemoic.plan.model import InitPlan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.models.encoder_processor_decoder import part_of
from anemoic.runtime.training.build import build_components
from anemoic.runtime.training.checkpoints import list_checkpoints, load_checkpoint
from anemoic.runtime.training.init import load_parts
from anemoic.runtime.training.module import ForecastModule
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, run_runtime, tiny_plan, trained_autoencoder, write_tiny_plan, write_tiny_store,
)

@pytest.fixture(scope="module")
def autoencoder(trained_autoencoder: TrainedRun) -> tuple[Path, Path]:  # noqa: F811
    """(store, the run directory of a trained autoencoder)."""
    return trained_autoencoder.store, trained_autoencoder.run_dir


def forecaster(store: Path, run_dir: Path, init: InitPlan | None, inputs: int = 1) -> ForecastModule:
    plan = tiny_plan(store, run_dir, **{"task.multistep_input": inputs, "training.init": init})
    torch.manual_seed(7)  # the same fresh initialisation for every module built here
    parts = build_components(plan, cache_graph=False)
    return ForecastModule(plan, parts.model, parts.loss, parts.preprocessor, parts.task, parts.node_weights,
                          total_steps=1, lineage={})


def test_a_forecaster_gets_exactly_the_autoencoders_encoder_and_decoder(autoencoder: tuple[Path, Path],
                                                                        tmp_path: Path) -> None:
    store, run = autoencoder
    trained = load_checkpoint(list_checkpoints(run / "checkpoints")[-1])["state_dict"]
    init = InitPlan(str(run), ("encoder", "decoder"))
    fresh = forecaster(store, tmp_path / "fresh", None).state_dict()
    module = forecaster(store, tmp_path / "warm", init)
    summary = load_parts(module, init)
    assert summary.startswith("init: loaded the encoder, decoder (") and "freshly initialised: processor" in summary
    weights = module.state_dict()
    parts = {name: part_of(name.removeprefix("model.")) for name in weights if name.startswith("model.")}
    assert set(parts.values()) == {"encoder", "processor", "decoder"}
    for name, part in parts.items():
        expected = fresh[name] if part == "processor" else trained[name]
        assert torch.equal(weights[name], expected), name
        if part != "processor":
            assert not torch.equal(weights[name], fresh[name]) or name.endswith("trainable_data"), name
    for name in (k for k in weights if k.startswith("preprocessor.")):  # this plan's statistics, untouched
        torch.testing.assert_close(weights[name], fresh[name], rtol=0, atol=0, equal_nan=True)


def test_exec_applies_init_and_a_shape_mismatch_is_one_line(autoencoder: tuple[Path, Path], tmp_path: Path) -> None:
    store, run = autoencoder
    init = {"training.init": InitPlan(str(run), ("encoder", "decoder"))}
    fits = write_tiny_plan(tmp_path, store, "fits.json", **init, **{"task.multistep_input": 1})
    result = run_runtime("exec", str(fits), "--dry-run", cwd=tmp_path, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "init: loaded the encoder, decoder" in result.stdout
    two_inputs = write_tiny_plan(tmp_path, store, "two.json", **init)  # embed_data sees 2 input steps here
    result = run_runtime("exec", str(two_inputs), "--dry-run", cwd=tmp_path, timeout=240)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("error: train.init: the encoder, decoder of ") and "model.embed_data.weight" in message


def test_a_missing_checkpoint_is_one_line(tmp_path: Path) -> None:
    store = write_tiny_store(tmp_path)
    module = forecaster(store, tmp_path / "run", None)
    with pytest.raises(RuntimeUserError) as caught:
        load_parts(module, InitPlan(str(tmp_path / "nowhere"), ("encoder",)))
    assert str(caught.value).startswith("error: train.init: ") and "\n" not in str(caught.value)


def test_the_parts_cover_every_weight_of_a_forecaster_once(tmp_path: Path) -> None:
    from anemoic.plan.model import MethodPlan, NoisePlan
    from anemoic.runtime.models.encoder_processor_decoder import PARTS

    store = write_tiny_store(tmp_path)
    plan = tiny_plan(store, tmp_path / "run", **{"task.method": MethodPlan("ensemble", 2, NoisePlan("inject"))})
    model = build_components(plan, cache_graph=False).model
    for name in model.state_dict():
        assert sum(name.startswith(prefixes) for prefixes in PARTS.values()) == 1, name
