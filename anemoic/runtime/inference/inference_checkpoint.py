"""Inference checkpoints: a folder of two files that cannot run code, and the loader that builds the model from them.

``weights.safetensors`` holds the tensors (the module's state with EMA weights applied: model, normaliser
buffers, loss weights) and ``metadata.json`` everything else: the plan and its hash, variables with their
indices and roles, timesteps, the grid's coordinates, the graph's fingerprint, normaliser statistics,
provenance and ``format_version``.  Reading is ``json.loads`` and ``safetensors.torch.load_file``: neither
can import or call anything, unlike ``torch.load`` of a pickle.  The loader rebuilds the graph from the
plan's recipe on the stored coordinates and refuses it if it no longer hashes to the stored fingerprint
(a graph builder that changed would feed the weights a different graph), so the model is built from
the pair alone: no store, no training checkpoint, no graph cache.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import anemoic
from anemoic.plan.errors import PlanError
from anemoic.plan.io import plan_from_file_dict
from anemoic.plan.model import Plan
from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.training.checkpoints import INFERENCE_METADATA

FORMAT = "anemoic-inference-checkpoint"
FORMAT_VERSION = 1
METADATA_NAME = INFERENCE_METADATA
WEIGHTS_NAME = "weights.safetensors"


@dataclass
class InferenceModel:
    """What the loader returns: the module in eval mode, its graph and the metadata it was built from."""

    module: Any  # ForecastModule
    graph: Any  # torch_geometric HeteroData
    metadata: dict[str, Any]
    path: Path


def is_inference_checkpoint(path: str | Path) -> bool:
    return Path(path, METADATA_NAME).is_file()


def graph_fingerprint(graph: Any) -> str:
    """sha256 over every array of the graph the model sees (node coordinates, area weights, edges)."""
    from anemoic.graphs.arrays import EDGE_SETS

    digest = hashlib.sha256()
    parts = [("data.x", graph["data"].x), ("data.area_weight", graph["data"].area_weight),
             ("data.grid_index", graph["data"].grid_index), ("hidden.x", graph["hidden"].x)]
    for name, (src, dst) in EDGE_SETS.items():
        parts += [(f"{name}.edge_index", graph[src, "to", dst].edge_index),
                  (f"{name}.edge_attr", graph[src, "to", dst].edge_attr)]
    for name, tensor in parts:
        array = np.ascontiguousarray(tensor.detach().cpu().numpy())
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _refuse(path: Path, what: str, hint: str | None = None) -> RuntimeUserError:
    return RuntimeUserError(f"error: {path} {what}" + (f"\nhint: {hint}" if hint else ""))


def _reconvert_hint(metadata: dict[str, Any]) -> str:
    provenance = metadata.get("provenance")
    parent = provenance.get("parent") if isinstance(provenance, dict) else None
    source = parent.get("path") if isinstance(parent, dict) else None
    return f"anemoi-runtime checkpoint convert {source or 'TRAINING_CHECKPOINT'} -o DIR"


def check_format_version(path: Path, metadata: dict[str, Any]) -> None:
    """This version reads format 1; a newer one needs a newer anemoic, an older one is converted again from its
    training checkpoint (the exact command is printed)."""
    version = metadata.get("format_version")
    if metadata.get("format") != FORMAT or not isinstance(version, int) or isinstance(version, bool):
        raise _refuse(path, f"is not an anemoic inference checkpoint ({METADATA_NAME} has no format "
                            f"{FORMAT!r} with an integer format_version)")
    if version > FORMAT_VERSION:
        provenance = metadata.get("provenance")
        packages = provenance.get("packages") if isinstance(provenance, dict) else None
        written_by = packages.get("anemoic") if isinstance(packages, dict) else None
        known = isinstance(written_by, str) and written_by
        raise _refuse(path, f"is an inference checkpoint of format {version}, written by anemoic "
                            f"{written_by if known else '(unknown)'}; this anemoic {anemoic.__version__} reads format "
                            f"{FORMAT_VERSION}", f"pip install 'anemoic>={written_by}'" if known
                      else f"install an anemoic newer than {anemoic.__version__}")
    if version < FORMAT_VERSION:
        raise _refuse(path, f"is an inference checkpoint of format {version}, which this anemoic "
                            f"{anemoic.__version__} no longer reads (it reads format {FORMAT_VERSION})",
                      f"convert its training checkpoint again: {_reconvert_hint(metadata)}")


def read_metadata(path: Path) -> dict[str, Any]:
    """``metadata.json`` as plain JSON data (no object hooks: JSON cannot name code), its format checked."""
    try:
        text = (path / METADATA_NAME).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refuse(path, f"has a damaged {METADATA_NAME} (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                      "convert the training checkpoint again") from None
    if not isinstance(metadata, dict):
        raise _refuse(path, f"is not an anemoic inference checkpoint ({METADATA_NAME} holds no JSON object)")
    check_format_version(path, metadata)
    return metadata


def read_weights(path: Path, metadata: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The tensors, after checking the file is the one the metadata names (sha256 and uuid)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        data = (path / WEIGHTS_NAME).read_bytes()
    except OSError as exc:
        raise _refuse(path, f"has no readable {WEIGHTS_NAME} ({exc.strerror or exc})") from None
    recorded = (metadata.get("weights") or {}).get("sha256")
    if hashlib.sha256(data).hexdigest() != recorded:
        raise _refuse(path, f"has a {WEIGHTS_NAME} that is not the one its {METADATA_NAME} names (sha256 differs): "
                            "the pair was mixed up or damaged", "convert the training checkpoint again")
    try:
        return load(data)
    except (SafetensorError, ValueError) as exc:
        raise _refuse(path, f"has an unreadable {WEIGHTS_NAME} ({exc})") from None


def plan_in(path: Path, metadata: dict[str, Any]) -> Plan:
    try:
        plan, notes = plan_from_file_dict(metadata.get("plan"), f"the plan stored in {path / METADATA_NAME}")
    except PlanError as exc:
        raise RuntimeUserError(f"error: {exc}") from None
    for note in notes:
        print(note, file=sys.stderr)
    return plan


def load_inference(path: str | Path) -> InferenceModel:
    """Build the module for inference from ``metadata.json`` and ``weights.safetensors`` alone."""
    from anemoic.graphs.cache import grid_fingerprint
    from anemoic.runtime.data.preprocessing import Preprocessor
    from anemoic.runtime.losses import build_loss
    from anemoic.runtime.models import build_model
    from anemoic.runtime.models.graph_tensors import build_graph
    from anemoic.runtime.training.build import build_task, output_weights, region_size
    from anemoic.runtime.training.module import ForecastModule

    folder = Path(path)
    if not is_inference_checkpoint(folder):
        raise _refuse(folder, f"is not an inference checkpoint (no {METADATA_NAME})")
    metadata = read_metadata(folder)
    tensors = read_weights(folder, metadata)
    plan = plan_in(folder, metadata)
    try:
        grid, fingerprint = metadata["grid"], metadata["graph"]["fingerprint"]
        latitudes = np.asarray(grid["latitudes"], dtype=np.float64)
        longitudes = np.asarray(grid["longitudes"], dtype=np.float64)
        written_by = metadata["provenance"]["packages"]["anemoic"]
        lineage = {**metadata["provenance"]["training"], "plan_hash": metadata["plan_hash"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(folder, f"has an incomplete {METADATA_NAME} ({type(exc).__name__}: {exc})",
                      "convert the training checkpoint again") from None
    if grid_fingerprint(latitudes, longitudes) != grid.get("fingerprint"):
        raise _refuse(folder, f"has grid coordinates that do not match their fingerprint in {METADATA_NAME}",
                      "convert the training checkpoint again")
    graph = build_graph(plan.graph, latitudes, longitudes, cache_dir=None, region_size=region_size(plan))
    if graph_fingerprint(graph) != fingerprint:
        raise _refuse(folder, f"was trained on a graph that this anemoic {anemoic.__version__} no longer builds "
                              f"from the same recipe (graph fingerprint differs)",
                      f"predict with the anemoic that converted it ({written_by}), or retrain")
    try:
        model, loss = build_model(plan, graph), build_loss(plan, graph)
    except ValueError as exc:
        raise _refuse(folder, f"holds a plan whose model cannot be built: {exc}") from None
    try:
        preprocessor = Preprocessor.from_buffers(tuple(plan.indices.data), tensors, prefix="preprocessor.")
    except KeyError as exc:
        raise _refuse(folder, f"holds weights without the normaliser's buffer {exc}") from None
    module = ForecastModule(plan, model, loss, preprocessor, build_task(plan, preprocessor),
                            output_weights(plan, graph), total_steps=1, lineage=lineage)
    own = module.state_dict()
    misfits = [f"missing {k}" for k in own if k not in tensors]
    misfits += [f"unexpected {k}" for k in tensors if k not in own]
    misfits += [f"{k} is {tuple(tensors[k].shape)}, not {tuple(v.shape)}" for k, v in own.items()
                if k in tensors and tensors[k].shape != v.shape]
    if misfits:
        shown = ", ".join(misfits[:4]) + (f" and {len(misfits) - 4} more" if len(misfits) > 4 else "")
        raise _refuse(folder, f"holds weights that do not fit the model its plan describes: {shown}",
                      "convert the training checkpoint again")
    module.load_state_dict(tensors, strict=True)
    module.eval()
    return InferenceModel(module, graph, metadata, folder)
