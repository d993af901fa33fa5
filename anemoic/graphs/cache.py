"""Graph cache: one ``.npz`` per (recipe, grid) pair, read with ``allow_pickle=False``.

The key hashes the plan's ``cache_key``, the recipe itself and a fingerprint recomputed from the
grid coordinates, so a changed recipe or grid can never reuse a stale file even if the plan's
key was computed elsewhere. Files are written to a temporary name and renamed into place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from anemoic.plan.model import GraphPlan
from anemoic.graphs.arrays import EDGE_SETS, EdgeArrays, GraphArrays

LOGGER = logging.getLogger(__name__)
FORMAT_VERSION = 1


def grid_fingerprint(latitudes_deg: np.ndarray, longitudes_deg: np.ndarray) -> str:
    """sha256 over the grid's shape and float64 coordinates."""
    digest = hashlib.sha256()
    for values in (latitudes_deg, longitudes_deg):
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def cache_key(graph: GraphPlan, fingerprint: str) -> str:
    """The key of a graph built from this recipe on this grid."""
    recipe = dataclasses.asdict(graph)
    recipe.pop("name")
    text = json.dumps({"format": FORMAT_VERSION, "recipe": recipe, "grid": fingerprint}, sort_keys=True,
                      default=list)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(cache_dir: str | os.PathLike, key: str) -> Path:
    return Path(cache_dir) / f"graph-{key[:24]}.npz"


def save(path: Path, key: str, graph: GraphArrays) -> None:
    """Write the graph atomically."""
    arrays: dict[str, np.ndarray] = {
        "meta": np.array(json.dumps({"key": key, "format": FORMAT_VERSION})),
        "data_x": graph.data_x,
        "hidden_x": graph.hidden_x,
        "data_area_weight": graph.data_area_weight,
        "data_grid_index": graph.data_grid_index,
    }
    for name, edges in graph.edges.items():
        arrays[f"{name}__edge_index"] = edges.edge_index
        arrays[f"{name}__edge_attr"] = edges.edge_attr
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, key: str) -> GraphArrays | None:
    """The cached graph, or None when absent; a damaged or foreign file is reported and ignored."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            if meta.get("key") != key:
                raise ValueError("it was built from another recipe or grid")
            graph = _from_npz(stored)
        graph.check()
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        LOGGER.warning("graph cache %s is unusable (%s); rebuilding it", path, exc)
        return None
    return graph


def _from_npz(stored: np.lib.npyio.NpzFile) -> GraphArrays:
    edges = {}
    for name in EDGE_SETS:
        edges[name] = EdgeArrays(edge_index=stored[f"{name}__edge_index"], edge_attr=stored[f"{name}__edge_attr"])
    return GraphArrays(data_x=stored["data_x"], hidden_x=stored["hidden_x"],
                       data_area_weight=stored["data_area_weight"],
                       data_grid_index=stored["data_grid_index"], edges=edges)
