"""The editor queries behind `anemoic lsp`, on their own: positions, blocks, hover, completion, symbols."""

from __future__ import annotations

from pathlib import Path

from anemoic.compiler import editor

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "tests" / "compiler" / "base.anm"


def test_enclosing_block_reads_half_typed_text() -> None:
    text = 'train {\n  epochs = 2\n  lr = f(a = "{", b = [1,\n'
    assert editor.enclosing_block(text, 1, 2) == "train"
    assert editor.enclosing_block(text, 2, 10) is None  # inside a call
    assert editor.enclosing_block("let x = 1\n", 0, 4) is None
    assert editor.enclosing_block("task f(net) {\n  // { a brace in a comment\n  ", 2, 2) == "task"


def test_word_at() -> None:
    assert editor.word_at("  lr = 10u", 0, 8) == ("10u", 7, 10)
    assert editor.word_at("  lr = 10u", 0, 5) is None
    assert editor.word_at("x", 5, 0) is None


def test_check_text_locates_errors_in_imports_at_the_top(tmp_path: Path) -> None:
    (tmp_path / "lib.anm").write_text("let a = \n")
    exp = tmp_path / "exp.anm"
    text = 'import "./lib.anm"\n' + BASE.read_text()
    issues, _ = editor.check_text(text, str(exp))
    [issue] = [i for i in issues if i.severity == "error"]
    assert (issue.line, issue.column, issue.code) == (0, 0, "E0003")
    assert issue.message.startswith(f"{tmp_path / 'lib.anm'}:1:8: the file ends too early")


def test_hover_on_a_preset_a_component_and_a_keyword() -> None:
    text = BASE.read_text()
    line = next(i for i, row in enumerate(text.split("\n")) if row.startswith("model net"))
    assert editor.hover(text, line, 14) == (
        "```\nlet graphtransformer = encoder_processor_decoder(    // std.models\n```")
    line = next(i for i, row in enumerate(text.split("\n")) if row.startswith("graph g"))
    assert editor.hover(text, line, 50).startswith(
        "```\nicosahedral(refinement, area = unset, margin_km = unset, mask = unset)")
    assert editor.hover(text, 0, 2) == "keyword `import`"


def test_hover_on_a_setting_names_its_plan_field_and_type() -> None:
    text = BASE.read_text()
    line = next(i for i, row in enumerate(text.split("\n")) if "epochs =" in row)
    column = text.split("\n")[line].index("epochs") + 1
    assert editor.hover(text, line, column).startswith(
        "setting `epochs` of `train`: plan field `training.epochs`, type `int`")
    assert editor.plan_field_type("model.norm") == '"layernorm" | "rmsnorm"'
    assert editor.plan_field_type("training.max_steps") == "int | None"
    assert editor.plan_field_type("training.no_such_field") is None


def test_completion_and_symbols() -> None:
    text = BASE.read_text()
    outputs = next(i for i, row in enumerate(text.split("\n")) if row.startswith("outputs"))
    labels = [c.label for c in editor.completions(text, outputs, 10, str(BASE))]
    assert labels == ["run_dir", "keep_last", "checkpoint_every"]
    values = {c.label for c in editor.completions("let x = ", 0, 8, "x.anm")}
    assert {"cosine", "true", "x"} <= values and "train" not in values
    kinds = [s.kind for s in editor.symbols(text, str(BASE))]
    assert kinds[:4] == ["import", "import", "dataset", "variables"] and "outputs" in kinds
    assert editor.symbols("train {", "x.anm") == []


def test_definition_in_the_file_in_a_local_module_and_in_the_stdlib(tmp_path: Path) -> None:
    (tmp_path / "presets.anm").write_text("// presets\n\nlet wide = 512\n")
    text = ('import "./presets.anm" (wide)\nimport std.training\n'
            "let w = wide\nlet lr = training.aifs_lr\nlet again = w\n")
    path = str(tmp_path / "exp.anm")
    assert editor.definition(text, 2, 9, path) == editor.Location(str(tmp_path / "presets.anm"), 2, 4, 8)
    found = editor.definition(text, 3, 20, path)
    assert found is not None and found.path.endswith("stdlib/training.anm") and (found.column, found.end_column) == (4, 11)
    assert editor.definition(text, 4, 12, path) == editor.Location(path, 2, 4, 5)
    assert editor.definition(text, 1, 12, path).line == 0  # type: ignore[union-attr]
    assert editor.definition(text, 2, 1, path) is None


def test_completion_inside_a_call_leads_with_the_components_parameters() -> None:
    text = "import std.models (graphtransformer)\nmodel net = graphtransformer(g, \ntrain { lr = 1e-3 with cosine("
    items = editor.completions(text, 1, 32, "x.anm")
    assert [c.label for c in items[:3]] == ["graph", "processor", "encoder"] and items[0].kind == "setting"
    items = editor.completions(text, 2, 30, "x.anm")
    assert [c.label for c in items[:3]] == ["warmup", "min_lr", "total_steps"]
    assert editor.completions("let x = f(a = \"(\" // (\n", 0, 14, "x.anm")[0].kind == "component"
