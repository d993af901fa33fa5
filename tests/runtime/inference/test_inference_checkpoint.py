"""A damaged or mixed-up inference checkpoint is refused in a message that says what is wrong (golden), never a
traceback; the committed fixture is the intact pair each case starts from."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME, WEIGHTS_NAME, load_inference
from tests.golden import assert_golden

FIXTURE = sorted((Path(__file__).parent / "fixtures").glob("format-*"))[-1] / "inference"
GOLDEN = Path(__file__).parent / "golden"


def _edit_metadata(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        metadata = json.loads((folder / METADATA_NAME).read_text())
        change(metadata)
        (folder / METADATA_NAME).write_text(json.dumps(metadata))
    return edit


def _other_weights(folder: Path) -> None:
    tensors = load_file(folder / WEIGHTS_NAME)
    tensors["model.extra"] = tensors[next(iter(tensors))].clone()
    save_file(tensors, folder / WEIGHTS_NAME)


def _extra_weights_matching_sha(folder: Path) -> None:
    import hashlib

    _other_weights(folder)
    digest = hashlib.sha256((folder / WEIGHTS_NAME).read_bytes()).hexdigest()
    _edit_metadata(lambda m: m["weights"].__setitem__("sha256", digest))(folder)


def _moved_grid(metadata: dict) -> None:
    metadata["grid"]["latitudes"][0] += 1.0


CASES: dict[str, Callable[[Path], None]] = {
    "not JSON": lambda f: (f / METADATA_NAME).write_text("{\"format\": "),
    "another weights file": _other_weights,
    "weights that do not fit": _extra_weights_matching_sha,
    "grid coordinates edited": _edit_metadata(_moved_grid),
    "a graph this anemoic builds differently": _edit_metadata(lambda m: m["graph"].__setitem__("fingerprint", "0" * 64)),
    "no grid": _edit_metadata(lambda m: m.pop("grid")),
    "a plan edited by hand": _edit_metadata(lambda m: m["plan"].__setitem__("seed", 7)),
    "no weights file": lambda f: (f / WEIGHTS_NAME).unlink(),
}


def test_damaged_pairs_are_refused_in_words(tmp_path: Path) -> None:
    messages = []
    for name, damage in CASES.items():
        folder = tmp_path / name.replace(" ", "-")
        shutil.copytree(FIXTURE, folder)
        damage(folder)
        with pytest.raises(RuntimeUserError) as refused:
            load_inference(folder)
        messages.append(f"{name}:\n{str(refused.value).replace(str(tmp_path), 'TMP')}")
    import anemoic

    text = "\n".join(messages).replace(f"anemoic {anemoic.__version__}", "anemoic VERSION")
    assert_golden(text.replace(f"({anemoic.__version__})", "(VERSION)") + "\n", GOLDEN / "inference_checkpoint_damaged.txt")


def test_the_intact_fixture_loads(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "intact")
    assert not load_inference(tmp_path / "intact").module.training
