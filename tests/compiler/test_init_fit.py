"""`train.init` against a checkpoint that is already there: parts that cannot fit are E0827 at check time."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from anemoic.compiler.api import compile_file
from anemoic.datasets.synth import write_synthetic_store
from anemoic.plan.canonical import canonical_json
from tests.golden import assert_golden

BASE = (Path(__file__).with_name("base.anm")).read_text()
TASK = BASE[BASE.index("task forecast(net) {"):BASE.index("}", BASE.index("task forecast(net) {")) + 1]
AUTOENCODER = BASE.replace(TASK, "task autoencode(net) {\n  loss = mse * node_weights(area)\n}")
GOLDEN = Path(__file__).with_name("golden") / "init_checkpoint_does_not_fit.txt"


def with_init(parts: str, inputs: int = 2) -> str:
    text = BASE.replace("train { epochs = 2; batch = 1; lr = 1e-3 with cosine(warmup = 10) }",
                        "train {\n  epochs = 2; batch = 1; lr = 1e-3\n"
                        f'  init = from_checkpoint("runs/ae", parts = [{parts}])\n}}')
    return text.replace("inputs = 2 steps", f"inputs = {inputs} steps")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the synthetic store and an autoencoder checkpoint of the base experiment's model."""
    folder = tmp_path_factory.mktemp("init")
    write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")
    (folder / "ae.anm").write_text(AUTOENCODER)
    result = compile_file(folder / "ae.anm")
    assert result.plans, result.render()
    checkpoint = folder / "runs" / "ae" / "checkpoints" / "step-00000003.ckpt"
    checkpoint.parent.mkdir(parents=True)
    torch.save({"anemoic": {"plan_json": canonical_json(result.plans[0])},
                "state_dict": {"model.embed_data.weight": torch.zeros(64, 37)}}, checkpoint)
    return folder


def check(folder: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    (folder / "exp.anm").write_text(text)
    monkeypatch.chdir(folder)
    result = compile_file("exp.anm")
    return result.render(), [d.code for d in result.diagnostics]


def test_parts_that_cannot_fit_are_named_at_check_time(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, codes = check(folder, with_init("encoder, processor, decoder"), monkeypatch)
    assert codes == ["E0827", "E0827"]  # the encoder (2 input steps here, 1 there), the processor (none there)
    assert_golden(text, GOLDEN)


def test_parts_that_fit_check_clean(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check(folder, with_init("encoder, decoder", inputs=1), monkeypatch)[1] == []


def test_a_checkpoint_not_there_or_not_readable_is_left_to_the_run(folder: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert check(folder, with_init("processor").replace("runs/ae", "runs/none"), monkeypatch)[1] == []
    (folder / "runs" / "junk.ckpt").write_bytes(b"not a checkpoint")
    assert check(folder, with_init("processor").replace('"runs/ae"', '"runs/junk.ckpt"'), monkeypatch)[1] == []
