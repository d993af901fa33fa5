"""docs/language.md lists every diagnostic code the checker can emit."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_is_documented() -> None:
    docs = (ROOT / "docs" / "language.md").read_text()
    sources = [*(ROOT / "anemoic" / "compiler").glob("*.py"), *(ROOT / "anemoic" / "compiler" / "typecheck").glob("*.py"),
               ROOT / "anemoic" / "cli" / "commands" / "check.py"]
    codes = {code for path in sources for code in re.findall(r'"([EW]\d{4})"', path.read_text())}
    assert len(codes) > 60
    missing = sorted(c for c in codes if f"| {c} |" not in docs and not c.startswith(("E090", "W090")))
    assert not missing, f"codes missing from the table in docs/language.md: {missing}"


def test_the_opening_example_checks(tmp_path: Path) -> None:
    from anemoic.compiler.api import compile_source

    docs = (ROOT / "docs" / "language.md").read_text()
    example = re.findall(r"```\n(.*?)```", docs, re.S)[0]
    result = compile_source(example, str(tmp_path / "exp.anm"))
    assert [d.code for d in result.diagnostics] == ["W0101"], result.render()
