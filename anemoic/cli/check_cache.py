"""A cache of `anemoic check` results: re-checking unchanged files costs only hashing them.

An entry is reused only when all of these are unchanged: the compiler itself (its sources, grammar,
stdlib and the store reader), the command's flags and working directory, every source file the check
read or probed for an import (their bytes), and the metadata files of the dataset stores it read
(names, sizes and modification times; the bulk ``data`` chunks do not affect a check). Anything else
re-checks. Entries are small JSON files written atomically; an unreadable entry is ignored, and a cache
that cannot be written is skipped. ``ANEMOIC_NO_CHECK_CACHE=1`` turns it off. Only `anemoic check` uses
it: `build` and the API always compile.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent
_COMPILER_PARTS = ("compiler", "grammar", "stdlib", "plan", "geo", "datasets", "graphs", "cli/check_cache.py")
_stamp: str | None = None


def enabled() -> bool:
    return os.environ.get("ANEMOIC_NO_CHECK_CACHE") != "1"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "anemoic" / "check"


def compiler_stamp() -> str:
    """sha256 over the names, sizes and modification times of the compiler's own files (stat only,
    to stay cheap), so an edited or reinstalled compiler never reuses an old answer."""
    global _stamp
    if _stamp is None:
        rows = []
        for part in _COMPILER_PARTS:
            root = str(_PACKAGE / part)
            if os.path.isfile(root):
                rows.append(_stat(root, _PACKAGE))
                continue
            for folder, _, names in os.walk(root):
                rows.extend(_stat(os.path.join(folder, n), _PACKAGE) for n in names
                            if n.endswith((".py", ".lark", ".anm")))
        _stamp = hashlib.sha256(json.dumps(sorted(rows)).encode()).hexdigest()
    return _stamp


def file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "absent"


def store_stamp(path: str) -> list[list[object]]:
    """(relative name, size, mtime) of a store's metadata and small arrays; ``[["absent"]]`` if missing."""
    root = Path(path)
    if not root.is_dir():
        return [["absent" if not root.exists() else "not a folder"]]
    out: list[list[object]] = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_file():
            out.append(_stat(entry.path, root))
        elif entry.is_dir():
            for sub in sorted(Path(entry.path).rglob("*")):
                bulk = entry.name == "data" and not sub.name.startswith(".") and sub.name != "zarr.json"
                if sub.is_file() and not bulk:
                    out.append(_stat(str(sub), root))
    return out


def _stat(path: str, root: Path) -> list[object]:
    info = os.stat(path)
    return [str(Path(path).relative_to(root)), info.st_size, info.st_mtime_ns]


def _key(main: str, flags: str) -> str:
    text = "\0".join((compiler_stamp(), str(Path(main).resolve()), os.getcwd(), flags))
    return hashlib.sha256(text.encode()).hexdigest()


def lookup(main: str, flags: str) -> tuple[str, bool] | None:
    """(output, had errors) from an entry that is still valid, else None."""
    try:
        entry = json.loads((cache_dir() / f"{_key(main, flags)}.json").read_text())
        if any(file_digest(path) != digest for path, digest in entry["files"]):
            return None
        if any(store_stamp(path) != stamp for path, stamp in entry["stores"]):
            return None
        return str(entry["output"]), bool(entry["errors"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(main: str, flags: str, output: str, errors: bool, files: list[str], stores: list[str]) -> None:
    import tempfile

    try:
        entry = {"files": [[f, file_digest(f)] for f in sorted(set(files))],
                 "stores": [[s, store_stamp(s)] for s in sorted(set(stores))], "output": output, "errors": errors}
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(entry, handle)
        os.replace(tmp, folder / f"{_key(main, flags)}.json")
    except OSError:
        return
