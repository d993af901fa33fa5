"""The arrows between anemoic's packages (docs/design.md, "Layers"), enforced by walking every import.

Every ``import``/``from ... import`` statement counts, including those inside functions: a lazy import
still ties the packages together.  Rules:
- ``plan``, ``geo``, ``grammar`` and ``kernels`` import nothing else of anemoic;
- ``datasets`` and ``graphs`` import only ``plan`` and ``geo``;
- ``compiler`` imports those and ``grammar``; ``runtime`` imports them and ``kernels``;
  the compiler and the runtime never import each other;
- only ``cli`` imports both;
- nothing below the runtime imports torch, Lightning, torch-geometric or triton.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "anemoic"
LEAVES = {"plan", "geo", "datasets", "graphs"}
ALLOWED: dict[str, set[str]] = {
    "plan": set(),
    "geo": set(),
    "grammar": set(),
    "kernels": set(),
    "datasets": {"plan", "geo"},
    "graphs": {"plan", "geo"},
    "compiler": {"plan", "geo", "datasets", "graphs", "grammar"},
    "runtime": {"plan", "geo", "datasets", "graphs", "kernels"},
    "cli": {"plan", "geo", "datasets", "graphs", "grammar", "compiler", "runtime", "kernels"},
}
TORCH_FREE = {"plan", "geo", "grammar", "datasets", "graphs", "compiler"}
HEAVY = ("torch", "lightning", "torch_geometric", "triton")


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if node.module == "anemoic"]
    return found


def violations(layer: str, source: str) -> list[str]:
    """What ``source``, a module of ``layer``, imports against the rules."""
    out = []
    for line, module in imported_modules(source):
        parts = module.split(".")
        if parts[0] == "anemoic" and len(parts) > 1 and parts[1] in ALLOWED and parts[1] != layer:
            if parts[1] not in ALLOWED[layer]:
                out.append(f"line {line}: {layer} imports {module}")
        if layer in TORCH_FREE and parts[0] in HEAVY:
            out.append(f"line {line}: {layer} imports {module}, but must load without torch")
    return out


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if len(relative.parts) > 1:
            out.append((relative.parts[0], path))
    return out


def test_every_package_is_a_known_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert packages - {"stdlib"} == set(ALLOWED)


@pytest.mark.parametrize("layer,path", _modules(), ids=[str(p.relative_to(PACKAGE)) for _, p in _modules()])
def test_imports_follow_the_layers(layer: str, path: Path) -> None:
    assert violations(layer, path.read_text(encoding="utf-8")) == []


def test_the_package_root_imports_nothing() -> None:
    assert [m for _, m in imported_modules((PACKAGE / "__init__.py").read_text()) if m.startswith("anemoic")] == []


@pytest.mark.parametrize("layer,source,expected", [
    ("compiler", "import anemoic.runtime\n", "compiler imports anemoic.runtime"),
    ("compiler", "def f():\n    from anemoic.runtime.training import run\n", "compiler imports anemoic.runtime.training"),
    ("runtime", "from anemoic import compiler\n", "runtime imports anemoic.compiler"),
    ("graphs", "from anemoic.datasets.store import open_store\n", "graphs imports anemoic.datasets.store"),
    ("datasets", "import torch\n", "must load without torch"),
    ("plan", "from anemoic.geo.grids import grid_points\n", "plan imports anemoic.geo.grids"),
])
def test_a_wrong_arrow_is_caught(layer: str, source: str, expected: str) -> None:
    assert any(expected in v for v in violations(layer, source))
