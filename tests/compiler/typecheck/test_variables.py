"""Variable roles and what the runtime can compute must agree."""

from __future__ import annotations

from pathlib import Path

from anemoic.compiler.api import compile_source
from anemoic.compiler.typecheck.variables import COMPUTED
from anemoic.datasets.forcings import COMPUTED_FORCINGS

BASE = (Path(__file__).resolve().parents[1] / "base.anm").read_text()


def test_computed_forcings_are_those_the_runtime_computes() -> None:
    assert set(COMPUTED) == set(COMPUTED_FORCINGS)


def test_roles_indices_and_per_variable_settings(tmp_path: Path) -> None:
    text = BASE.replace("diagnostic = [tp]", "diagnostic = [tp]\n  impute = { msl: mean, tp: constant(0) }\n"
                        "  remap = { tp: log1p }\n  bound = { tp: relu }") \
        .replace("except { tp: std, lsm: none }", "except { tp: std, lsm: none, z: max }") \
        .replace("node_weights(area)", "node_weights(cos_latitude)")
    plan = compile_source(text, str(tmp_path / "exp.anm")).plans[0]
    by_name = {v.name: v for v in plan.variables}
    assert (by_name["z_500"].normaliser, by_name["z_850"].normaliser, by_name["t_500"].normaliser) == \
        ("max", "max", "mean_std")
    assert by_name["cos_latitude"].normaliser == "none" and by_name["cos_latitude"].computed == "cos_latitude"
    assert by_name["msl"].imputer.statistic == "mean"  # type: ignore[union-attr]
    assert by_name["tp"].imputer.value == 0.0 and by_name["tp"].remap == "log1p"  # type: ignore[union-attr]
    assert by_name["tp"].bounding == "relu"
    assert plan.graph.node_weights == "cos_latitude"
    assert plan.indices.forcing == ("lsm", "cos_latitude")
    assert plan.indices.data[-1] == "cos_latitude"
