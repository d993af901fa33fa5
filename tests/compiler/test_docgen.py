"""`anemoic doc`'s reference: docs/stdlib.md is exactly the generator's Markdown (a golden file), and
every component, parameter, block setting and stdlib preset appears in it, in Markdown and HTML alike."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from anemoic.compiler import docgen, language
from anemoic.compiler.builtins import REGISTRY
from anemoic.compiler.diagnostics import Sink
from anemoic.compiler.modules import STDLIB_DIR
from anemoic.compiler.parser import parse
from tests.golden import assert_golden

ROOT = Path(__file__).resolve().parents[2]


def test_docs_stdlib_md_is_the_generated_reference() -> None:
    assert_golden(docgen.markdown(docgen.document()), ROOT / "docs" / "stdlib.md")


def test_everything_the_compiler_knows_is_documented() -> None:
    text = docgen.markdown(docgen.document())
    for b in REGISTRY.values():
        assert f"`{docgen.signature(b)}`" in text
        for p in b.params:
            assert f"| `{p.name}` |" in text
    for block, keys in language.BLOCK_SETTINGS.items():
        assert f"### `{block}`" in text
        assert all(f"| `{k}` |" in text for k in keys)
    for path in STDLIB_DIR.rglob("*.anm"):
        module = parse(path.read_text(), str(path), Sink())
        assert module is not None
        for decl in module.decls:
            assert f"let {decl.name.id} = " in text  # type: ignore[union-attr]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_balanced_and_says_what_the_markdown_says() -> None:
    nodes = docgen.document()
    parser = _Tags()
    parser.feed(docgen.to_html(nodes))
    assert parser.open == []
    words = " ".join(parser.text)
    for b in REGISTRY.values():
        assert docgen.signature(b) in words
