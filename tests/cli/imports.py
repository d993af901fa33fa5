"""Run an `anemoic` command in a fresh interpreter and list every module it imported (``-X importtime``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "lightning", "torch_geometric", "triton")


def imports_of(argv: list[str], cwd: Path = ROOT, **env: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The finished process and the names of the modules it imported."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "anemoic.cli.anemoic", *argv],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, imported


def heavy(imported: set[str]) -> set[str]:
    """The torch-stack modules among ``imported``."""
    return {m for m in imported if m.split(".")[0] in HEAVY}
