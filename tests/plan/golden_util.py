"""Compare text with a golden file; ``ANEMOIC_UPDATE_GOLDEN=1`` rewrites the file instead."""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(text: str, path: Path) -> None:
    if os.environ.get("ANEMOIC_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"golden file {path} is missing: run with ANEMOIC_UPDATE_GOLDEN=1 once"
    assert text == path.read_text()
