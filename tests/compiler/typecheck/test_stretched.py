"""A stretched grid (``output_mask = none`` on a cut-out graph) and its ``dataset_weights`` scaler, as the
compiler checks and lowers them (``anemoic.compiler.typecheck.stretched``); the diagnostics' exact texts are the
golden cases ``tests/compiler/diagnostics/stretched_*`` and ``dataset_weights_*``."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.cli.anemoic import main
from anemoic.compiler.api import compile_source
from tests.compiler.typecheck.test_limited_area import LAM, codes, stores  # noqa: F401


def stretched(stores, loss: str = "mse * node_weights(area)", mask: str = "none", tmp: Path | None = None):
    text = LAM.format(region=stores["region_12h"], boundary=stores["globe_6h"], margin=300, timestep="12h",
                      region_settings="", boundary_settings="", task_settings="")
    text = text.replace("output_mask = pacific", f"output_mask = {mask}").replace(
        "loss = mse * node_weights(area)", f"loss = {loss}")
    return compile_source(text, str(tmp / "exp.anm") if tmp else "stretched.anm"), text


def test_output_mask_none_is_a_stretched_grid_that_forecasts_both_datasets(stores):
    result, _ = stretched(stores)
    assert codes(result) == [], result.render()
    (plan,) = result.plans
    assert plan.boundary is not None and not plan.boundary.forced and plan.task.output_mask is None
    assert plan.output_points is None


@pytest.mark.parametrize(("weights", "shares"), [("pacific = 0.25", (0.25, 0.75)), ("globe = 0.25", (0.75, 0.25)),
                                                 ("pacific = 0.4, globe = 0.6", (0.4, 0.6))])
def test_dataset_weights_name_either_dataset_or_both(stores, weights, shares):
    result, _ = stretched(stores, f"mse * node_weights(area) * dataset_weights({weights})")
    assert codes(result) == [], result.render()
    (scaler,) = [s for s in result.plans[0].loss.scalers if s.kind == "dataset_weights"]
    assert scaler.weights == shares and scaler.params == {"region": "pacific", "boundary": "globe"}


@pytest.mark.parametrize(("loss", "mask", "code"), [
    ("mse * dataset_weights(atlantic = 0.5)", "none", "E0517"),
    ("mse * dataset_weights(pacific = 0)", "none", "E0518"),
    ("mse * dataset_weights(pacific = 1)", "none", "E0518"),
    ("mse * dataset_weights()", "none", "E0518"),
    ("mse * dataset_weights(pacific = 0.5)", "pacific", "E0833"),
])
def test_dataset_weights_mistakes(stores, loss, mask, code):
    result, _ = stretched(stores, loss, mask)
    assert codes(result) == [code], result.render()


def test_build_summary_says_both_datasets_are_forecast(stores, tmp_path, capsys):
    _, text = stretched(stores)
    experiment = tmp_path / "stretched.anm"
    experiment.write_text(text)
    assert main(["build", str(experiment), "-o", str(tmp_path / "out")]) == 0
    assert ": a stretched grid, both forecast and scored\n" in capsys.readouterr().out
