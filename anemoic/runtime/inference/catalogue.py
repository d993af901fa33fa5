"""``anemoi-runtime checkpoint list [DIR]`` and ``checkpoint show ID [--catalogue DIR]``: a local folder of
inference checkpoints read as a catalogue.

Each object is a checkpoint folder whose ``metadata.json`` says what it is, so the catalogue needs no index
of its own (nothing to keep in step, nothing to corrupt): listing reads every metadata document, ``show``
finds one by folder path or by uuid (a unique prefix is enough).  Hidden folders (a convert's temporaries)
are not objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.inference_checkpoint import is_inference_checkpoint, read_metadata


def entries(catalogue: Path) -> list[tuple[Path, dict[str, Any] | str]]:
    """(folder, metadata) per inference checkpoint in ``catalogue``, or (folder, why it cannot be read)."""
    if not catalogue.is_dir():
        raise RuntimeUserError(f"error: the catalogue {catalogue} is not a folder\n"
                               "hint: name the folder that `checkpoint convert -o` wrote into")
    found: list[tuple[Path, dict[str, Any] | str]] = []
    for folder in sorted(p for p in catalogue.iterdir() if not p.name.startswith(".") and is_inference_checkpoint(p)):
        try:
            found.append((folder, read_metadata(folder)))
        except RuntimeUserError as exc:
            found.append((folder, str(exc).splitlines()[0].removeprefix(f"error: {folder} ")))
    return found


def _row(folder: Path, metadata: dict[str, Any]) -> list[str]:
    parent = metadata["provenance"]["parent"]
    method = metadata["method"]
    return [metadata["uuid"][:8], folder.name, metadata["plan"]["name"], metadata["plan_hash"][:12],
            str(parent.get("global_step", "?")),
            method["kind"] + (f" x{method['members']}" if method["members"] > 1 else ""), metadata["created"]]


def list_text(catalogue: Path) -> str:
    found = entries(catalogue)
    if not found:
        return f"no inference checkpoints in {catalogue}\n"
    rows = sorted((_row(folder, metadata) for folder, metadata in found if isinstance(metadata, dict)),
                  key=lambda r: (r[6], r[1]))
    header = ["uuid", "checkpoint", "plan", "plan hash", "step", "method", "created"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]] if rows else []
    lines += [f"{folder.name}: unreadable, {why}" for folder, why in found if isinstance(why, str)]
    return "\n".join(lines) + "\n"


def find(identifier: str, catalogue: Path) -> Path:
    """A checkpoint folder given as a path, or by uuid (or a unique uuid prefix) in ``catalogue``."""
    given = Path(identifier)
    if is_inference_checkpoint(given):
        return given
    matches = [folder for folder, metadata in entries(catalogue)
               if isinstance(metadata, dict) and str(metadata.get("uuid", "")).startswith(identifier)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RuntimeUserError(f"error: no inference checkpoint {identifier!r} in {catalogue} (neither a checkpoint "
                               "folder nor a uuid there)\nhint: `anemoi-runtime checkpoint list "
                               f"{catalogue}` shows what it holds")
    names = ", ".join(m.name for m in matches)
    raise RuntimeUserError(f"error: {identifier!r} is the start of {len(matches)} uuids in {catalogue} ({names})\n"
                           "hint: give more of the uuid")


def show_text(folder: Path) -> str:
    metadata = read_metadata(folder)
    plan, parent, prov = metadata["plan"], metadata["provenance"]["parent"], metadata["provenance"]
    by_role: dict[str, list[str]] = {}
    for var in metadata["variables"]:
        by_role.setdefault(var["role"], []).append(var["name"])
    timesteps, weights, method = metadata["timesteps"], metadata["weights"], metadata["method"]
    packages = ", ".join(f"{k} {v}" for k, v in sorted(prov["packages"].items()))
    lines = [
        f"{folder}",
        f"  uuid        {metadata['uuid']}",
        f"  format      {metadata['format']} {metadata['format_version']}, created {metadata['created']}",
        f"  plan        {plan['name']} ({metadata['plan_hash']}), dataset {plan['dataset']['path']}",
        f"  method      {method['kind']}" + (f", {method['members']} members" if method["members"] > 1 else ""),
        *(f"  {role:<11} {', '.join(names)}" for role, names in by_role.items()),
        f"  timestep    {timesteps['timestep_s']} s, {timesteps['multistep_input']} input steps "
        f"(offsets {', '.join(str(o) for o in timesteps['input_offsets_s'])} s)",
        f"  grid        {metadata['grid']['size']} points (fingerprint {metadata['grid']['fingerprint'][:12]})",
        f"  graph       {metadata['graph']['recipe']['name']} (fingerprint {metadata['graph']['fingerprint'][:12]})",
        f"  weights     {weights['parameters']:,} parameters{' (EMA)' if weights['ema'] else ''}, "
        f"sha256 {weights['sha256'][:12]}",
        f"  parent      {parent['path']} (step {parent.get('global_step')}, epoch {parent.get('epoch')})",
        f"  code        {packages}; git {prov.get('git_revision') or 'unknown'}",
    ]
    return "\n".join(lines) + "\n"


def list_command(catalogue: str) -> int:
    print(list_text(Path(catalogue)), end="")
    return 0


def show_command(identifier: str, *, catalogue: str) -> int:
    print(show_text(find(identifier, Path(catalogue))), end="")
    return 0
