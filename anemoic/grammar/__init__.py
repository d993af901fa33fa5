"""The grammar of the .anm language (``anm.lark``) and the cached LALR parser built from it."""

from __future__ import annotations

import os
from pathlib import Path

GRAMMAR_PATH = Path(__file__).with_name("anm.lark")


def cache_path() -> str | bool:
    """Where Lark caches the parse tables: the user cache dir, else beside the grammar, else nowhere.

    Lark checks the grammar's hash inside the cache file, so a stale cache is never used.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for directory in (os.path.join(base, "anemoic"), str(GRAMMAR_PATH.parent)):
        try:
            os.makedirs(directory, exist_ok=True)
            if os.access(directory, os.W_OK):
                return os.path.join(directory, "anm-grammar.lark-cache")
        except OSError:
            continue
    return False
