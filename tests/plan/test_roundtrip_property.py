"""Property: any finite float and any text survive plan -> JSON -> plan, and re-writing is byte-stable."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from anemoic.plan.canonical import canonical_json, plan_hash
from anemoic.plan.io import read_plan, write_plan
from tests.factories import make_plan

finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**60, 2**60), finite, st.text(max_size=12))
params = st.dictionaries(st.text(min_size=1, max_size=8), st.one_of(scalars, st.tuples(scalars, scalars)),
                         max_size=4)


@settings(max_examples=60, deadline=None)
@given(lr=finite, name=st.text(min_size=1, max_size=20), hidden=params, weights=st.lists(finite, max_size=5))
def test_round_trip_is_exact_and_stable(lr: float, name: str, hidden: dict, weights: list[float]) -> None:
    base = make_plan()
    plan = make_plan(**{
        "training.optimiser.lr": lr, "name": name, "graph.hidden.params": hidden,
        "loss.scalers": (base.loss.scalers[0].__class__("w", "variable", weights=tuple(weights)),),
    })
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.json"
        digest = write_plan(plan, path)
        back = read_plan(path)
        assert back == plan
        assert plan_hash(back) == digest
        assert canonical_json(back) == path.read_text()
