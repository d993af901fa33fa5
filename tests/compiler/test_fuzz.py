"""Property test: mutated, truncated, random and huge inputs never crash the checker.

Every outcome is either success or at least one located diagnostic, within bounded time."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anemoic.compiler.api import compile_source
from anemoic.datasets.synth import write_synthetic_store

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [ROOT / "examples" / "quickstart.anm", ROOT / "examples" / "aifs_o96.anm",
         Path(__file__).with_name("base.anm")]
TEXTS = [p.read_text() for p in SEEDS]
TOKEN = re.compile(r"\s+|\w+|.", re.S)
LIMIT_S = 5.0


def check(text: str, filename: str) -> None:
    start = time.perf_counter()
    result = compile_source(text, filename)
    elapsed = time.perf_counter() - start
    assert elapsed < LIMIT_S, f"took {elapsed:.1f}s"
    if result.has_errors():
        assert not result.plans
        assert all(d.span is not None and d.span.line >= 1 for d in result.diagnostics)
    else:
        assert result.plans
    rendered = result.render()
    assert "Traceback" not in rendered
    json.loads(result.render("json"))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    index = draw(st.integers(0, len(TEXTS) - 1))
    tokens = TOKEN.findall(TEXTS[index])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate"]))
        i = draw(st.integers(0, len(tokens) - 1))
        j = draw(st.integers(0, len(tokens) - 1))
        if op == "delete":
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(["{", "}", "(", ")", "[", "]", "=", ":", ",", ";", "..", "->",
                                                   "6h", "2t", "1e-3", '"x"', "let", "model", "-", "*", "+",
                                                   "2019-13-45", "\x00", "é", "\n"])))
        else:
            tokens = tokens[:i]
        if not tokens:
            tokens = [""]
    return "".join(tokens), str(SEEDS[index])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_never_crash(case: tuple[str, str]) -> None:
    check(*case)


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    write_synthetic_store(folder / "store.zarr", grid="o16", start="2020-01-01", end="2020-01-31T18:00")
    return folder


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_examples_against_a_real_store(store_folder: Path, case: tuple[str, str]) -> None:
    """The golden base names `store.zarr`: here it exists, so the dataset-aware checks run too."""
    check(case[0], str(store_folder / "exp.anm"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    check(text, "random.anm")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(data: bytes) -> None:
    check(data.decode("utf-8", errors="replace"), "bytes.anm")


def test_deep_nesting_is_a_diagnostic() -> None:
    for text in ("let x = " + "[" * 5000 + "]" * 5000, "let x = " + "(" * 5000 + "1" + ")" * 5000,
                 "let x = " + "{a: " * 3000 + "1" + "}" * 3000):
        result = compile_source(text, "deep.anm")
        assert [d.code for d in result.diagnostics] == ["E0004"]


def test_long_expressions_do_not_overflow() -> None:
    check("let x = " + " + ".join(["1"] * 20000), "long.anm")
    check("let x = " + " - ".join(["-1"] * 5000) + "\n" * 10, "long.anm")


def test_huge_input_is_bounded() -> None:
    text = "".join(f"let v{i} = [2t, 10u, z_500]\n" for i in range(5000))
    check(text, "huge.anm")
    result = compile_source("x" * 600_000, "huge.anm")
    assert [d.code for d in result.diagnostics] == ["E0005"]
