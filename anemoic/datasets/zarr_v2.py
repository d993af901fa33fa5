"""Read zarr stores' metadata and small arrays without importing ``zarr``.

Importing zarr 3 costs ~0.45 s, too much for ``anemoic check``, which only
needs a store's attributes, array shapes, dates and statistics.  Those live in
the zarr v2 JSON files (``.zmetadata``/``.zattrs``/``.zarray``) and in small,
usually uncompressed chunks that numpy decodes directly.  Anything this module
cannot decode (zarr v3 stores, blosc-compressed small arrays, filters) is read
through zarr itself, imported lazily, so the result never depends on the path.
"""

from __future__ import annotations

import itertools
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np


class UnreadableError(Exception):
    """Raised with a short reason; the caller names the store."""


class ArrayInfo:
    """Shape, dtype and attributes of one array, from its metadata only."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, attrs: dict[str, Any]) -> None:
        self.shape = shape
        self.dtype = dtype
        self.attrs = attrs


class GroupReader:
    """A zarr group's attributes and arrays, via JSON where possible, zarr otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zarr_group: Any = None
        if (path / "zarr.json").is_file():
            self._meta = None  # zarr v3: let zarr read it
            self.attrs = dict(self._group().attrs)
            return
        self._meta = self._load_v2_metadata()
        self.attrs = self._meta.get(".zattrs", {})

    def _load_v2_metadata(self) -> dict[str, Any]:
        consolidated = self.path / ".zmetadata"
        if consolidated.is_file():
            return _read_json(consolidated).get("metadata", {})
        if not (self.path / ".zgroup").is_file():
            raise UnreadableError("is not a zarr group (no .zgroup, .zmetadata or zarr.json)")
        meta: dict[str, Any] = {".zgroup": _read_json(self.path / ".zgroup")}
        if (self.path / ".zattrs").is_file():
            meta[".zattrs"] = _read_json(self.path / ".zattrs")
        for child in sorted(self.path.iterdir()):
            if (child / ".zarray").is_file():
                meta[f"{child.name}/.zarray"] = _read_json(child / ".zarray")
                if (child / ".zattrs").is_file():
                    meta[f"{child.name}/.zattrs"] = _read_json(child / ".zattrs")
        return meta

    def _group(self) -> Any:
        if self._zarr_group is None:
            import zarr

            try:
                self._zarr_group = zarr.open_group(str(self.path), mode="r")
            except Exception as exc:  # zarr raises several unrelated types here
                raise UnreadableError(f"cannot be opened by zarr: {exc}") from exc
        return self._zarr_group

    def array_names(self) -> list[str]:
        if self._meta is None:
            return sorted(name for name, _ in self._group().arrays())
        return sorted(key[: -len("/.zarray")] for key in self._meta if key.endswith("/.zarray") and key.count("/") == 1)

    def info(self, name: str) -> ArrayInfo | None:
        if self._meta is None:
            group = self._group()
            if name not in group:
                return None
            array = group[name]
            return ArrayInfo(tuple(array.shape), np.dtype(array.dtype), dict(array.attrs))
        meta = self._meta.get(f"{name}/.zarray")
        if meta is None:
            return None
        dtype = _v2_dtype(meta["dtype"])
        return ArrayInfo(tuple(meta["shape"]), dtype, self._meta.get(f"{name}/.zattrs", {}))

    def read(self, name: str) -> np.ndarray:
        """The whole array `name` (meant for small ones: dates, coordinates, statistics)."""
        meta = None if self._meta is None else self._meta.get(f"{name}/.zarray")
        if meta is not None and _decodable(meta):
            return self._read_v2_plain(name, meta)
        try:
            return np.asarray(self._group()[name][...])
        except UnreadableError:
            raise
        except Exception as exc:
            raise UnreadableError(f"array {name!r} cannot be read: {exc}") from exc

    def _read_v2_plain(self, name: str, meta: dict[str, Any]) -> np.ndarray:
        shape, chunks = tuple(meta["shape"]), tuple(meta["chunks"])
        dtype = _v2_dtype(meta["dtype"])
        order = meta.get("order", "C")
        separator = meta.get("dimension_separator") or "."
        out = np.empty(shape, dtype=dtype)
        out[...] = _fill_value(meta.get("fill_value"), dtype)
        grid = [range(0, -(-s // c)) for s, c in zip(shape, chunks)] if shape else [range(1)]
        for index in itertools.product(*grid):
            key = separator.join(str(i) for i in index) if shape else "0"
            chunk_path = self.path / name / key
            if not chunk_path.is_file():
                continue
            raw = _decompress(chunk_path.read_bytes(), meta.get("compressor"), f"{name}/{key}")
            expected = int(np.prod(chunks)) * dtype.itemsize if shape else dtype.itemsize
            if len(raw) != expected:
                raise UnreadableError(f"chunk {name}/{key} has {len(raw)} bytes, expected {expected}")
            block = np.frombuffer(raw, dtype=dtype).reshape(chunks if shape else (), order=order)
            where = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(index, chunks, shape))
            out[where] = block[tuple(slice(0, w.stop - w.start) for w in where)]
        return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UnreadableError(f"{path.name} is not readable JSON: {exc}") from exc


def _v2_dtype(spec: Any) -> np.dtype:
    if isinstance(spec, list):  # structured dtypes never occur in anemoi stores
        raise UnreadableError(f"structured dtype {spec!r} is not supported")
    return np.dtype(spec)


def _decodable(meta: dict[str, Any]) -> bool:
    compressor = meta.get("compressor")
    return not meta.get("filters") and (compressor is None or compressor.get("id") in ("zlib", "gzip"))


def _decompress(raw: bytes, compressor: dict[str, Any] | None, key: str) -> bytes:
    if compressor is None:
        return raw
    try:
        wbits = 31 if compressor["id"] == "gzip" else 15
        return zlib.decompress(raw, wbits)
    except zlib.error as exc:
        raise UnreadableError(f"chunk {key} cannot be decompressed: {exc}") from exc


def _fill_value(value: Any, dtype: np.dtype) -> Any:
    if value is None:
        return np.zeros((), dtype=dtype)
    if dtype.kind in "mM":
        return np.array(int(value), dtype="int64").view(dtype)
    if isinstance(value, str):  # "NaN", "Infinity", "-Infinity"
        return float(value)
    return value
