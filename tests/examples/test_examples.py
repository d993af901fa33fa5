"""Every example experiment checks cleanly (its dataset store may be absent: warnings only)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.compiler.api import compile_file

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.anm"))


def test_there_are_examples() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"quickstart.anm", "aifs_o96.anm"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_checks(path: Path) -> None:
    result = compile_file(path)
    assert not result.has_errors(), result.render()
    assert all(d.code in ("W0101",) for d in result.diagnostics), result.render()
    assert result.plans


def test_aifs_o96_is_aifs_scale() -> None:
    plan = compile_file(Path(__file__).resolve().parents[2] / "examples" / "aifs_o96.anm").plans[0]
    assert (plan.model.processor, plan.model.layers, plan.model.channels, plan.model.heads) == \
        ("graphtransformer", 16, 1024, 16)
    assert (plan.parallel.nodes, plan.parallel.processes_per_node, plan.parallel.gpus_per_model) == (2, 4, 1)
    assert plan.parallel.data_parallel_size == 8
    assert plan.training.batch_size == 1
    assert plan.dataset.frequency_s == 6 * 3600
    assert plan.site.name == "atos" and plan.site.time_limit_s == 48 * 3600
    assert len(plan.indices.prognostic) == 6 * 13 + 8
