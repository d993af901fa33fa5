"""The hidden mesh's ``mask``: lowered into ``NodesPlan.params`` on a graph over a cut-out grid, refused elsewhere.

The language's ``cutout(region, boundary, margin_km = ...)`` value is evaluated by the real evaluator from real
dataset declarations; the cases without a cut-out are golden (tests/compiler/diagnostics/mask_*.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler import values as v
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.evaluate import Evaluator
from anemoic.compiler.modules import load_program
from anemoic.compiler.typecheck.context import Context
from anemoic.compiler.typecheck.graph_model import _nodes
from anemoic.plan.model import NodesPlan

SOURCE = """\
dataset pacific = zarr("pacific.zarr") { frequency = 1mo }
dataset globe = zarr("globe.zarr") { frequency = 1mo }
let masked = icosahedral(refinement = 4, mask = pacific, margin_km = 600)
let wrong = icosahedral(refinement = 4, mask = globe, margin_km = 600)
let refined = stretched(global_refinement = 2, area_refinement = 5, mask = pacific, margin_km = 300)
"""


def _evaluated(tmp_path: Path) -> tuple[Context, dict[str, v.Value]]:
    sink = Sink()
    key = str(tmp_path / "exp.anm")
    program = load_program(SOURCE, key, tmp_path, key, sink)
    evaluator = Evaluator(program, sink)
    values = {name: evaluator.binding(key, name) for name in ("pacific", "globe", "masked", "wrong", "refined")}
    assert not sink.items
    return Context(sink, evaluator, key, key), values  # type: ignore[return-value]


@pytest.mark.parametrize("name, expected", [
    ("masked", NodesPlan("icosahedral", {"refinement": 4, "margin_km": 600.0, "mask": "pacific"})),
    ("refined", NodesPlan("stretched", {"global_refinement": 2, "area_refinement": 5, "margin_km": 300.0,
                                        "mask": "pacific"})),
])
def test_a_mask_on_a_cut_out_graph_lowers_into_the_mesh_params(tmp_path, name, expected):
    ctx, values = _evaluated(tmp_path)
    assert _nodes(ctx, values[name], region="pacific") == expected
    assert not ctx.sink.items and "graph.hidden.params.mask" in ctx.spans


def test_a_mask_naming_the_boundary_is_a_located_error(tmp_path):
    ctx, values = _evaluated(tmp_path)
    assert _nodes(ctx, values["wrong"], region="pacific") is None
    (diagnostic,) = ctx.sink.items
    assert diagnostic.code == "E0711" and "must be the cut-out's region `pacific`, not `globe`" in diagnostic.message
    assert diagnostic.span.line == 4
