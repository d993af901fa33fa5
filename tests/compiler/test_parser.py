"""The grammar: digit-led words, dates, ranges, comments and the AST's spans."""

from __future__ import annotations

from anemoic.compiler import ast
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.parser import parse


def parse_ok(text: str) -> ast.Module:
    sink = Sink()
    module = parse(text, "t.anm", sink)
    assert module is not None, sink.items
    return module


def value_of(text: str) -> ast.Expr:
    decl = parse_ok(f"let x = {text}").decls[0]
    assert isinstance(decl, ast.Binding)
    return decl.value


def test_digit_words_are_one_token_and_never_durations_or_numbers() -> None:
    for word in ("2t", "10u", "100v", "2d", "6h", "64GB", "1mo"):
        node = value_of(word)
        assert isinstance(node, ast.Literal) and node.kind == "word" and node.value == word


def test_numbers_dates_and_ranges() -> None:
    assert value_of("1e-3") == ast.Literal("float", 1e-3, value_of("1e-3").span)
    assert value_of("42").kind == "int"  # type: ignore[union-attr]
    rng = value_of("1979..2018")
    assert isinstance(rng, ast.BinOp) and rng.op == ".."
    assert rng.left.value == 1979 and rng.right.value == 2018  # type: ignore[union-attr]
    date = value_of("2019-01-01T06:00")
    assert isinstance(date, ast.Literal) and date.kind == "date" and date.value == "2019-01-01T06:00"


def test_comments_and_optional_separators() -> None:
    module = parse_ok("// one\n# two\ntrain { epochs = 1; batch = 2\n lr = 1e-3 } ; ;")
    section = module.decls[0]
    assert isinstance(section, ast.Section) and [s.key for s in section.block.settings] == ["epochs", "batch", "lr"]


def test_keywords_may_name_settings_and_arguments() -> None:
    module = parse_ok("task forecast(net) { loss = mse; model = 1 }\nlet y = f(train = 1)")
    section = module.decls[0]
    assert [s.key for s in section.block.settings] == ["loss", "model"]  # type: ignore[union-attr]


def test_spans_point_at_the_source() -> None:
    module = parse_ok("let x = 1\nlet  yy = [2t, msl]")
    decl = module.decls[1]
    assert isinstance(decl, ast.Binding)
    assert (decl.name.span.line, decl.name.span.column, decl.name.span.end_column) == (2, 6, 8)
    first = decl.value.items[0]  # type: ignore[union-attr]
    assert (first.span.line, first.span.column) == (2, 12)


def test_rollout_and_operators() -> None:
    node = value_of("1 -> 12 by 2 every 3 epochs")
    assert isinstance(node, ast.Rollout) and node.every == 3
    node = value_of("mean_std except { tp: std, 2t: none }")
    assert isinstance(node, ast.BinOp) and node.op == "except"
    assert [e.key for e in node.right.entries] == ["tp", "2t"]  # type: ignore[union-attr]
    node = value_of("6.25e-4 with cosine(warmup = 1000)")
    assert isinstance(node, ast.BinOp) and node.op == "with"
    node = value_of("pressure_levels(z, t; levels = [500, 850])")
    assert isinstance(node, ast.Call) and [a.name for a in node.args] == [None, None, "levels"]


def test_syntax_errors_are_diagnostics() -> None:
    sink = Sink()
    assert parse("train { epochs = }", "t.anm", sink) is None
    assert [d.code for d in sink.items] == ["E0001"]
    assert "expected a value" in sink.items[0].message
