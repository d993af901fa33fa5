"""`anemoic fmt`'s layout: idempotent, hash-preserving on every example and stdlib file, every comment
kept in its place, and the same properties on generated programs (hypothesis)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anemoic.compiler import modules
from anemoic.compiler.api import compile_file, compile_source
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.formatter import FormatError, format_source
from anemoic.compiler.parser import parse
from anemoic.plan.canonical import plan_hash

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").rglob("*.anm"))
STDLIB = sorted((ROOT / "anemoic" / "stdlib").rglob("*.anm"))
BASE = ROOT / "tests" / "compiler" / "base.anm"


def shape(node: object) -> object:
    """A syntax tree without its spans: what the file means, not where it was written."""
    if dataclasses.is_dataclass(node):
        return (type(node).__name__, *(shape(getattr(node, f.name)) for f in dataclasses.fields(node)
                                       if f.name not in ("span", "file")))
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    return node


def tree_of(text: str) -> object:
    module = parse(text, "t.anm", Sink())
    assert module is not None, text
    return shape(module)


def comments_of(text: str) -> list[str]:
    from anemoic.compiler.formatter import _tree

    return [str(c).rstrip() for c in _tree(text)[1]]


def hashes(text: str, path: Path) -> list[str]:
    result = compile_source(text, str(path))
    assert not result.has_errors(), result.render()
    return [plan_hash(p) for p in result.plans]


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_is_idempotent_and_keeps_its_tree(path: Path) -> None:
    text = path.read_text()
    once = format_source(text, str(path))
    assert format_source(once, str(path)) == once
    assert tree_of(once) == tree_of(text)
    assert comments_of(once) == comments_of(text)


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "sites" not in p.parts], ids=lambda p: p.name)
def test_formatting_an_example_keeps_its_plan_hash(path: Path) -> None:
    text = path.read_text()
    assert hashes(format_source(text), path) == hashes(text, path)


def test_formatting_the_stdlib_keeps_every_examples_plan_hash(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p: [plan_hash(x) for x in compile_file(p).plans] for p in EXAMPLES if "sites" not in p.parts}
    formatted = tmp_path / "stdlib"
    shutil.copytree(modules.STDLIB_DIR, formatted)
    changed = 0
    for path in formatted.rglob("*.anm"):
        text = path.read_text()
        path.write_text(format_source(text))
        changed += path.read_text() != text
    assert changed, "the stdlib is already formatted: this test would not show anything"
    monkeypatch.setattr(modules, "STDLIB_DIR", formatted)
    assert {p: [plan_hash(x) for x in compile_file(p).plans] for p in before} == before
    models = formatted / "models.anm"  # and the formatted copy is what was compiled:
    models.write_text(models.read_text().replace("channels = 1024", "channels = 1000"))
    aifs = ROOT / "examples" / "aifs_o96.anm"
    assert [plan_hash(x) for x in compile_file(aifs).plans] != before[aifs]


COMMENTED = """\
// before everything
import std.models (graphtransformer) // after an import

// before a block
dataset era5 = zarr("store.zarr") { // after an opening brace
  // first inside a block
  frequency = 6h  // end of a setting
  train = 2020-01-01..2020-01-20
  // between settings
  validate = 2020-01-21..2020-01-31
  // last inside a block
}
# a hash comment between items
variables from era5 {
  prognostic = pressure_levels(z, t; // inside a call
                               levels = [500, 850]) + surface(2t, 10u, 10v, msl)
  forcing = [lsm, // inside a list
    cos_latitude]
  normalise = mean_std except {
    // inside a record
    tp: std // after an entry
  }
}
// at the end of the file"""


def test_comments_survive_in_every_position() -> None:
    out = format_source(COMMENTED)
    assert comments_of(out) == comments_of(COMMENTED)
    assert tree_of(out) == tree_of(COMMENTED)
    for comment in comments_of(COMMENTED):  # each still closes the same code (or stands alone)
        before = next(row for row in COMMENTED.splitlines() if comment in row).split(comment)[0].split()
        after = next(row for row in out.splitlines() if comment in row).split(comment)[0].split()
        assert "".join(before) == "".join(after), comment
    assert out.endswith("// at the end of the file\n")
    assert "\n  // last inside a block\n}" in out and "\n  // between settings\n" in out
    assert "\n    // inside a record\n" in out
    assert format_source(out) == out


def test_layout_rules() -> None:
    messy = ("let a=1+-2*(3-4)\nlet bb = [1,2 ,3]\ntrain{epochs=2;batch   =  4}\n\n\n\n"
             "task forecast(net) {\ntimestep=6h\n   inputs = 2 steps\n}\nlet r = { a : 1 }\nlet q = {a:1}\n")
    assert format_source(messy) == (
        "let a  = 1 + -2 * (3 - 4)\nlet bb = [1, 2, 3]\ntrain { epochs = 2; batch = 4 }\n\n"
        "task forecast(net) {\n  timestep = 6h\n  inputs   = 2 steps\n}\nlet r = { a: 1 }\nlet q = {a: 1}\n")


def test_a_file_with_a_syntax_error_is_refused_with_its_location() -> None:
    with pytest.raises(FormatError, match=r"^bad.anm:2:1: error\[E0001\]: expected a value"):
        format_source("train { epochs =\n}\n", "bad.anm")
    with pytest.raises(FormatError, match=r"^bad.anm:1:9: error\[E0002\]"):
        format_source("let a = \x00\n", "bad.anm")
    with pytest.raises(FormatError, match=r"^big.anm:1:1: error\[E0005\]: this file is too large"):
        format_source("let a = 1\n" * 60_000, "big.anm")


# ---- generated programs ------------------------------------------------------------------------
NAMES = st.sampled_from(["a", "lr", "x1", "epochs", "q_500"])  # values, callees, `let` and declaration names
IDENTS = st.sampled_from(["a", "lr", "x1", "epochs", "train", "q_500"])  # settings, keyword arguments, record keys
# (a declaration keyword such as `train` may name a setting or a key, never a value: the grammar's `ident`)
WORDS = st.sampled_from(["6h", "10u", "2t", "64GB"])
SPACE = st.sampled_from([" ", "  ", "\n", " \n  ", "\t"])
COMMENT = st.sampled_from(["", "", " // c", "  # note", " //"])


def group(expr: str) -> str:
    """``expr`` in brackets where the grammar allows only one `..`, `->`, `with` or `except` in a row."""
    return f"({expr})" if any(op in expr for op in ("..", "->", " with ", " except ")) else expr


def expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(st.integers(0, 999).map(str), st.sampled_from(["1.5", "3e-4", "0.625e-4"]), NAMES, WORDS,
                       st.sampled_from(['"s"', "true", "2020-01-01", "2020-01-01T06:00"]))

    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        sep = st.tuples(st.sampled_from([",", ";"]), SPACE, COMMENT).map(
            lambda t: t[0] + (t[2] + "\n" if t[2] else t[1]))
        items = st.lists(st.tuples(inner, sep), min_size=1, max_size=3).map(
            lambda xs: "".join(x + s for x, s in xs[:-1]) + xs[-1][0])
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "..", "->"]), SPACE, inner).map(
                lambda t: f"{group(t[0])}{t[2]}{t[1]}{t[2]}{group(t[3])}"),
            inner.map(lambda e: f"-{group(e)}"), inner.map(lambda e: f"({e})"), items.map(lambda s: f"[{s}]"),
            st.tuples(NAMES, items).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(NAMES, IDENTS, inner).map(lambda t: f"{t[0]}({t[1]} = {t[2]})"),
            st.tuples(IDENTS, inner, SPACE).map(lambda t: f"{{{t[2]}{t[0]}:{t[1]}{t[2]}}}"),
            st.tuples(inner, inner).map(lambda t: f"{group(t[0])} with {group(t[1])}"),
            inner.map(lambda e: f"{group(e)} steps"), inner.map(lambda e: f"{group(e)}.b"),
            st.tuples(inner, IDENTS, inner).map(lambda t: f"{group(t[0])} except {{ {t[1]}: x, \"k 1\": {t[2]} }}"),
            st.tuples(inner, inner, st.sampled_from(["", " by 1", " by 2 every epoch", " every 3 epochs"])).map(
                lambda t: f"{group(t[0])} -> {group(t[1])}{t[2]}"),
        )

    return st.recursive(leaves, grow, max_leaves=8)


EXPRESSIONS = expressions()


def programs() -> st.SearchStrategy[str]:
    setting = st.tuples(IDENTS, SPACE, EXPRESSIONS, COMMENT).map(lambda t: f"{t[0]}{t[1]}={t[1]}{t[2]}{t[3]}\n")
    item = st.one_of(
        st.tuples(NAMES, EXPRESSIONS, COMMENT).map(lambda t: f"let {t[0]} = {t[1]}{t[2]}\n"),
        st.tuples(st.sampled_from(["train", "parallel", "outputs", "task f(net)"]), st.lists(setting, max_size=4),
                  COMMENT).map(lambda t: f"{t[0]} {{{t[2]}\n{''.join(t[1])}}}\n"),
        st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"sweep {t[0]} in {t[1]}\n"),
        st.tuples(st.sampled_from(["std.models", '"./m.anm"']), st.lists(NAMES, max_size=3), COMMENT).map(
            lambda t: f"import {t[0]}" + (f" ({', '.join(t[1])})" if t[1] else "") + t[2] + "\n"),
        st.tuples(NAMES, st.lists(setting, max_size=3), SPACE).map(
            lambda t: f'dataset {t[0]} = zarr("s.zarr"){t[2]}{{\n{"".join(t[1])}}}\n'),
        st.tuples(NAMES, st.lists(setting, max_size=3)).map(
            lambda t: f"variables from {t[0]} {{ {'; '.join(x.strip() for x in t[1] if '//' not in x and '#' not in x)} }}\n"),
        EXPRESSIONS.map(lambda e: f"tracking = {e};\n"),
        COMMENT.map(lambda c: c.strip() + "\n"), st.just("\n\n"),
    )
    return st.lists(item, min_size=1, max_size=6).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_format_idempotently_and_keep_their_meaning(text: str) -> None:
    out = format_source(text)
    assert format_source(out) == out
    assert tree_of(out) == tree_of(text)
    assert comments_of(out) == comments_of(text)
    assert not any(row != row.rstrip() for row in out.splitlines())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_respaced_experiment_keeps_its_plan_hash(data: st.DataObject) -> None:
    """The test experiment with random whitespace between its tokens: the same plan, formatted or not."""
    from anemoic.compiler.formatter import _leaves, _tree

    text = BASE.read_text()
    tokens = [str(tok) for tok, _ in _leaves(_tree(text)[0])]
    respaced = "".join(tok + data.draw(SPACE) for tok in tokens)
    expected = hashes(text, BASE)
    assert hashes(respaced, BASE) == expected
    out = format_source(respaced)
    assert hashes(out, BASE) == expected
    assert format_source(out) == out
