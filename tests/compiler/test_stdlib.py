"""The standard library: every module parses, every definition evaluates, presets hold Anemoi's defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_source
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.evaluate import Evaluator
from anemoic.compiler.modules import STDLIB_DIR, load_program, stdlib_modules

GOLDEN = Path(__file__).parent  # holds base.anm


@pytest.mark.parametrize("name", stdlib_modules())
def test_module_evaluates_cleanly(name: str) -> None:
    path = STDLIB_DIR.joinpath(*name.split(".")[1:]).with_suffix(".anm")
    sink = Sink()
    program = load_program(path.read_text(), f"<{name}>", path.parent, name, sink)
    evaluator = Evaluator(program, sink)
    assert program.modules[name].bindings
    for binding in program.modules[name].bindings:
        assert evaluator.binding(name, binding) is not None
    assert not sink.items


def test_presets_carry_anemoi_defaults(tmp_path: Path) -> None:
    text = (GOLDEN / "base.anm").read_text().replace(
        "graphtransformer(g, channels = 64, layers = 2, heads = 4)", "graphtransformer(g)")
    plan = compile_source(text, str(tmp_path / "exp.anm")).plans[0]
    model = plan.model
    assert (model.channels, model.layers, model.heads, model.mlp_hidden_ratio, model.activation, model.norm) == \
        (1024, 16, 16, 4, "gelu", "layernorm")
    assert (plan.graph.encoder.kind, plan.graph.encoder.params["factor"]) == ("cutoff", 0.6)
    assert (plan.graph.decoder.kind, plan.graph.decoder.params["k"]) == ("knn", 3)


def test_site_from_a_dotted_local_module(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "lumi.anm").write_text('site lumi { partition = "small-g"; time = 2h; mem = 480GB }\n')
    text = "import sites.lumi\n" + (GOLDEN / "base.anm").read_text()
    result = compile_source(text, str(tmp_path / "exp.anm"))
    site = result.plans[0].site
    assert (site.name, site.partition, site.time_limit_s, site.mem) == ("lumi", "small-g", 7200, "480G")
    assert result.plans[0].source_map["site.partition"].endswith("sites/lumi.anm:1:25")
