"""``anemoi-runtime checkpoint register|tag|untag|lineage|gc``: a catalogue of inference checkpoints in a local folder.

Layout of a catalogue ``ROOT`` (``--catalogue``, else ``$ANEMOIC_CATALOGUE``, else ``~/.anemoic/catalogue``)::

    ROOT/objects/<uuid>/weights.safetensors, metadata.json   one immutable object per inference checkpoint
    ROOT/tags/<uuid>/<tag>                                   one empty file per tag of an object

Objects are linked by the ``parent_uuid`` of their metadata (``checkpoint convert --parent``): the inference
checkpoint the training started from.  Every write is atomic without a lock: an object is copied into a hidden
temporary of ``objects/``, its copy checked against the metadata's sha256, fsynced and renamed into place (two
registrations of the same uuid race to one rename; the loser finds it there); a tag is created with
``O_CREAT | O_EXCL`` and removed with ``unlink``; ``gc`` renames an object out of view before deleting it.
A killed writer leaves only a hidden temporary, removed by the next write once its process is gone.
An object is registered only after its ancestors, and ``gc`` keeps every ancestor of what it keeps, so an
object's lineage is always complete in the catalogue.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.convert import remove_stale_temporaries
from anemoic.runtime.inference.inference_checkpoint import (
    METADATA_NAME, WEIGHTS_NAME, is_inference_checkpoint, read_metadata,
)
from anemoic.runtime.training.checkpoints import TEMPORARY_PREFIX, fsync_directory

ENVIRONMENT = "ANEMOIC_CATALOGUE"
_TAG = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def default_catalogue() -> str:
    return os.environ.get(ENVIRONMENT) or str(Path.home() / ".anemoic" / "catalogue")


def parent_of(metadata: dict[str, Any]) -> str | None:
    parent = metadata.get("parent_uuid")
    return parent if isinstance(parent, str) and parent else None


class Catalogue:
    """A local catalogue folder; reading needs no index (each object's metadata says what it is)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.objects, self.tags_dir = self.root / "objects", self.root / "tags"

    def _prepare(self) -> None:
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
            self.tags_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise RuntimeUserError(f"error: cannot create the catalogue {self.root}: {exc.strerror or exc}") from None

    def uuids(self) -> list[str]:
        if not self.objects.is_dir():
            return []
        return sorted(p.name for p in self.objects.iterdir() if _UUID.match(p.name))

    def has(self, identity: str) -> bool:
        return bool(_UUID.match(identity)) and is_inference_checkpoint(self.objects / identity)

    def metadata(self, identity: str) -> dict[str, Any]:
        return read_metadata(self.objects / identity)

    def resolve(self, identifier: str) -> str:
        """A uuid, or the start of exactly one, among the catalogue's objects."""
        matches = [u for u in self.uuids() if identifier and u.startswith(identifier.lower())]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RuntimeUserError(f"error: no checkpoint {identifier!r} in the catalogue {self.root}\n"
                                   f"hint: `anemoi-runtime checkpoint list {self.objects}` shows what it holds")
        raise RuntimeUserError(f"error: {identifier!r} is the start of {len(matches)} uuids in the catalogue "
                               f"{self.root}\nhint: give more of the uuid")

    def tags(self, identity: str) -> list[str]:
        folder = self.tags_dir / identity
        return sorted(p.name for p in folder.iterdir() if _TAG.match(p.name)) if folder.is_dir() else []

    def chain(self, identity: str) -> list[str]:
        """``identity`` and its ancestors in the catalogue, newest first (stops at a missing one or a cycle)."""
        found: list[str] = []
        current: str | None = identity
        while current is not None and current not in found and self.has(current):
            found.append(current)
            current = parent_of(self.metadata(current))
        return found


def _weights_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _checked(folder: Path) -> dict[str, Any]:
    """The metadata of a checkpoint folder to register, its uuid and weights checked."""
    if not is_inference_checkpoint(folder):
        raise RuntimeUserError(f"error: {folder} is not an inference checkpoint (no {METADATA_NAME})\n"
                               "hint: `anemoi-runtime checkpoint convert CKPT -o DIR` writes one")
    metadata = read_metadata(folder)
    identity = metadata.get("uuid")
    if not isinstance(identity, str) or not _UUID.match(identity):
        raise RuntimeUserError(f"error: {folder} has no valid uuid in its {METADATA_NAME}\n"
                               "hint: convert the training checkpoint again")
    try:
        digest = _weights_sha256(folder / WEIGHTS_NAME)
    except OSError as exc:
        raise RuntimeUserError(f"error: {folder} has no readable {WEIGHTS_NAME} ({exc.strerror or exc})") from None
    if digest != (metadata.get("weights") or {}).get("sha256"):
        raise RuntimeUserError(f"error: {folder} has a {WEIGHTS_NAME} that is not the one its {METADATA_NAME} names "
                               "(sha256 differs)\nhint: convert the training checkpoint again")
    return metadata


def _copy_file(source: Path, target: Path) -> None:
    with source.open("rb") as reading, target.open("wb") as writing:
        shutil.copyfileobj(reading, writing, 1 << 20)
        writing.flush()
        os.fsync(writing.fileno())


def _store(catalogue: Catalogue, folder: Path, metadata: dict[str, Any]) -> bool:
    """Copy ``folder`` into the catalogue as one atomic rename; False when the uuid was there already."""
    identity = metadata["uuid"]
    target = catalogue.objects / identity
    if catalogue.has(identity):
        if catalogue.metadata(identity).get("weights", {}).get("sha256") != metadata["weights"]["sha256"]:
            raise RuntimeUserError(f"error: {folder} has the uuid {identity} of another checkpoint in the catalogue "
                                   f"{catalogue.root} (their weights differ); nothing was registered\n"
                                   "hint: a copied or edited checkpoint folder; convert the training checkpoint "
                                   "again for a new uuid")
        return False
    temporary = Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", dir=catalogue.objects))
    try:
        _copy_file(folder / WEIGHTS_NAME, temporary / WEIGHTS_NAME)
        _copy_file(folder / METADATA_NAME, temporary / METADATA_NAME)
        if _weights_sha256(temporary / WEIGHTS_NAME) != metadata["weights"]["sha256"]:
            raise OSError(0, "the copied weights differ from the original")
        os.chmod(temporary, 0o755)
        fsync_directory(temporary)
        try:
            os.rename(temporary, target)
        except OSError:
            if catalogue.has(identity):  # another registration of the same uuid renamed first
                shutil.rmtree(temporary, ignore_errors=True)
                return False
            raise
    except OSError as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        raise RuntimeUserError(f"error: cannot write {identity} into the catalogue {catalogue.root}: "
                               f"{exc.strerror or exc}; nothing was written") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    fsync_directory(catalogue.objects)
    return True


def _local_checkpoints(folder: Path) -> dict[str, Path]:
    """uuid -> checkpoint folder, for the inference checkpoints beside ``folder`` (its siblings)."""
    found: dict[str, Path] = {}
    for sibling in sorted(folder.parent.iterdir()) if folder.parent.is_dir() else []:
        if not sibling.name.startswith(".") and is_inference_checkpoint(sibling):
            try:
                found.setdefault(str(read_metadata(sibling).get("uuid")), sibling)
            except RuntimeUserError:
                continue
    return found


def _describe(metadata: dict[str, Any]) -> str:
    step = ((metadata.get("provenance") or {}).get("parent") or {}).get("global_step", "?")
    return f"plan {metadata['plan']['name']} {metadata['plan_hash'][:12]}, step {step}, created {metadata['created']}"


def register(folder: Path, catalogue: Catalogue, *, with_ancestors: bool) -> list[str]:
    """Register ``folder`` (after its missing ancestors when ``with_ancestors``); the lines to print."""
    metadata = _checked(folder)
    pending = [(folder, metadata)]  # what to register, child first
    local: dict[str, Path] | None = None
    parent = parent_of(metadata)
    while parent is not None and not catalogue.has(parent):
        if not with_ancestors:
            raise RuntimeUserError(f"error: {folder} descends from {parent}, which is not in the catalogue "
                                   f"{catalogue.root}\nhint: register its ancestors first, or add --with-ancestors "
                                   "to register those found beside it")
        local = _local_checkpoints(folder) if local is None else local
        if parent not in local:
            raise RuntimeUserError(f"error: cannot register {folder} with its ancestors: {parent} is neither in the "
                                   f"catalogue {catalogue.root} nor beside it in {folder.parent}; nothing was "
                                   "registered\nhint: convert or fetch that checkpoint into "
                                   f"{folder.parent} first")
        if any(parent == m["uuid"] for _, m in pending):
            raise RuntimeUserError(f"error: {folder} has a lineage that loops back to {parent}\n"
                                   "hint: the metadata was edited; convert the training checkpoints again")
        ancestor = _checked(local[parent])
        pending.append((local[parent], ancestor))
        parent = parent_of(ancestor)
    catalogue._prepare()
    remove_stale_temporaries(catalogue.objects)
    lines = []
    for source, data in reversed(pending):  # ancestors first: an object's lineage is always in the catalogue
        done = _store(catalogue, source, data)
        lines.append(f"{'registered' if done else 'already registered'} {data['uuid']} ({_describe(data)})"
                     + ("" if source == folder else f", an ancestor, from {source}"))
    return lines


def tag(catalogue: Catalogue, identifier: str, name: str, *, remove: bool) -> str:
    if not _TAG.match(name):
        raise RuntimeUserError(f"error: {name!r} is not a tag name\nhint: lowercase letters, digits, '.', '_' "
                               "and '-', starting with a letter or digit (e.g. candidate, production)")
    identity = catalogue.resolve(identifier)
    path = catalogue.tags_dir / identity / name
    if remove:
        try:
            path.unlink()
        except FileNotFoundError:
            raise RuntimeUserError(f"error: {identity} is not tagged {name}\nhint: its tags: "
                                   f"{', '.join(catalogue.tags(identity)) or 'none'}") from None
        return f"untagged {identity} {name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return f"{identity} is already tagged {name}"
    fsync_directory(path.parent)
    return f"tagged {identity} {name}"


def lineage_text(catalogue: Catalogue, identifier: str) -> str:
    identity = catalogue.resolve(identifier)
    lines = []
    for depth, member in enumerate(catalogue.chain(identity)):
        data = catalogue.metadata(member)
        tags = catalogue.tags(member)
        lines.append(f"{'  ' * depth}{'' if depth == 0 else 'from '}{member}  {_describe(data)}"
                     + (f"  [{', '.join(tags)}]" if tags else ""))
        parent = parent_of(data)
        if parent is None:
            lines.append(f"{'  ' * (depth + 1)}(trained from scratch)")
        elif not catalogue.has(parent):
            lines.append(f"{'  ' * (depth + 1)}from {parent}: not in the catalogue")
    return "\n".join(lines) + "\n"


def gc_plan(catalogue: Catalogue, keep: int) -> tuple[list[str], list[str]]:
    """(kept, deleted) uuids: the newest ``keep`` per plan hash, every tagged one, and every ancestor of those."""
    by_run: dict[str, list[tuple[str, int, str]]] = {}
    for identity in catalogue.uuids():
        data = catalogue.metadata(identity)
        step = ((data.get("provenance") or {}).get("parent") or {}).get("global_step")
        by_run.setdefault(str(data.get("plan_hash")), []).append(
            (str(data.get("created")), step if isinstance(step, int) else -1, identity))
    wanted = {identity for members in by_run.values() for *_, identity in sorted(members, reverse=True)[:keep]}
    wanted |= {identity for identity in catalogue.uuids() if catalogue.tags(identity)}
    kept = {member for identity in wanted for member in catalogue.chain(identity)}
    return sorted(kept), [u for u in catalogue.uuids() if u not in kept]


def gc(catalogue: Catalogue, keep: int, *, dry_run: bool) -> list[str]:
    if keep < 0:
        raise RuntimeUserError(f"error: --keep {keep} is negative\nhint: the newest N per plan hash are kept; N >= 0")
    kept, doomed = gc_plan(catalogue, keep)
    verb = "would delete" if dry_run else "deleted"
    lines = []
    for identity in doomed:
        try:
            described = _describe(catalogue.metadata(identity))
        except RuntimeUserError:  # a concurrent gc took it
            continue
        lines.append(f"{verb} {identity} ({described})")
        if not dry_run:
            hidden = catalogue.objects / f"{TEMPORARY_PREFIX}{os.getpid()}-gc-{identity}"
            try:
                os.rename(catalogue.objects / identity, hidden)  # out of view at once, then deleted
            except FileNotFoundError:  # a concurrent gc took it
                continue
            shutil.rmtree(hidden, ignore_errors=True)
            shutil.rmtree(catalogue.tags_dir / identity, ignore_errors=True)
    if not dry_run and doomed:
        fsync_directory(catalogue.objects)
    lines.append(f"{'would keep' if dry_run else 'kept'} {len(kept)}, {verb} {len(doomed)} "
                 f"(newest {keep} per plan hash, tagged ones and their ancestors kept)")
    return lines


def register_command(folder: str, *, catalogue: str | None, with_ancestors: bool) -> int:
    print("\n".join(register(Path(folder), Catalogue(catalogue or default_catalogue()),
                             with_ancestors=with_ancestors)))
    return 0


def tag_command(identifier: str, name: str, *, catalogue: str | None, remove: bool) -> int:
    print(tag(Catalogue(catalogue or default_catalogue()), identifier, name, remove=remove))
    return 0


def lineage_command(identifier: str, *, catalogue: str | None) -> int:
    print(lineage_text(Catalogue(catalogue or default_catalogue()), identifier), end="")
    return 0


def gc_command(*, catalogue: str | None, keep: int, dry_run: bool) -> int:
    print("\n".join(gc(Catalogue(catalogue or default_catalogue()), keep, dry_run=dry_run)))
    return 0
