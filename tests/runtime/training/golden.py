"""Golden-text comparison: the expected text a user reads lives in a file beside the test.

Set ``ANEMOIC_UPDATE_GOLDEN=1`` to (re)write the files after an intended change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(text: str, path: Path) -> None:
    if os.environ.get("ANEMOIC_UPDATE_GOLDEN") == "1" or not path.exists():
        if os.environ.get("ANEMOIC_UPDATE_GOLDEN") != "1":
            raise AssertionError(f"golden file {path} is missing; run with ANEMOIC_UPDATE_GOLDEN=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"text differs from {path}:\n{text}"
