"""`checkpoint register|tag|untag|lineage|gc` against a local catalogue folder: lineage refusals and
--with-ancestors, tags, retention, eight concurrent registering CLIs, and a register killed mid-write (goldens)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from anemoic.runtime.errors import RuntimeUserError
from anemoic.runtime.inference.convert import convert_command
from anemoic.runtime.inference.inference_checkpoint import METADATA_NAME, WEIGHTS_NAME, load_inference
from anemoic.runtime.inference.registry import Catalogue, gc, lineage_text, register, tag
from anemoic.runtime.training.checkpoints import list_checkpoints
from tests.golden import assert_golden
from tests.runtime.training.tiny_run import (  # noqa: F401
    TrainedRun, child_env, run_runtime, runtime_command, trained_run,
)

GOLDEN = Path(__file__).parent / "golden"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _uuid(letter: str) -> str:
    return f"{letter * 8}-0000-4000-8000-{letter * 12}"


@pytest.fixture(scope="module")
def converted(trained_run: TrainedRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:  # noqa: F811
    """Two real inference checkpoints of the tiny run: ``root`` (step 2) and ``child`` (step 3, its parent root)."""
    folder = tmp_path_factory.mktemp("converted")
    first, second = list_checkpoints(trained_run.run_dir / "checkpoints")[-2:]
    assert convert_command([str(first)], output=str(folder / "out")) == 0
    (root,) = (folder / "out").iterdir()
    parent = json.loads((root / METADATA_NAME).read_text())["uuid"]
    done = run_runtime("checkpoint", "convert", str(second), "-o", str(folder / "out"), "--parent", parent,
                       cwd=folder)
    assert done.returncode == 0, done.stderr
    child = folder / "out" / f"test-{second.stem}"
    assert json.loads((child / METADATA_NAME).read_text())["parent_uuid"] == parent
    return root, child


def _copy(source: Path, target: Path, **fields: object) -> Path:
    """A copy of a checkpoint folder under another uuid (and other metadata fields): a distinct object."""
    shutil.copytree(source, target)
    metadata = json.loads((target / METADATA_NAME).read_text())
    metadata.update(fields)
    (target / METADATA_NAME).write_text(json.dumps(metadata))
    return target


def _names(text: str, *paths: Path, **uuids: str) -> str:
    for name, identity in uuids.items():
        text = text.replace(identity, name.upper())
    for path in paths:
        text = text.replace(str(path), "TMP")
    text = re.sub(r"\b([0-9a-f])\1{7}-0000-4000-8000-\1{12}\b", lambda m: f"UUID-{m[1].upper()}", text)
    text = re.sub(_UUID, "UUID", text)
    text = re.sub(r"created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "created CREATED", text)
    return re.sub(r"\b[0-9a-f]{12}\b", "HASH12", text)


def _refusal(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(RuntimeUserError) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(refused.value)


def test_register_refuses_missing_ancestors_unless_with_ancestors(converted: tuple[Path, Path],
                                                                  tmp_path: Path) -> None:
    root, child = converted
    root_id, child_id = (json.loads((p / METADATA_NAME).read_text())["uuid"] for p in converted)
    catalogue = Catalogue(tmp_path / "cat")
    orphan = _copy(child, tmp_path / "alone" / "orphan", uuid=_uuid("d"), parent_uuid=_uuid("e"))
    texts = [_refusal(register, child, catalogue, with_ancestors=False),
             _refusal(register, orphan, catalogue, with_ancestors=True),
             _refusal(register, tmp_path, catalogue, with_ancestors=False),
             _refusal(convert_command, [str(root)], output=str(tmp_path / "x"), parent="not-a-uuid")]
    assert catalogue.uuids() == []  # nothing registered by a refusal
    texts += register(child, catalogue, with_ancestors=True)
    texts += register(child, catalogue, with_ancestors=False)
    assert catalogue.uuids() == sorted([root_id, child_id])
    for identity, source in ((root_id, root), (child_id, child)):
        stored = catalogue.objects / identity
        assert (stored / WEIGHTS_NAME).read_bytes() == (source / WEIGHTS_NAME).read_bytes()
        assert (stored / METADATA_NAME).read_text() == (source / METADATA_NAME).read_text()
    assert load_inference(catalogue.objects / child_id).metadata["parent_uuid"] == root_id
    impostor = _copy(root, tmp_path / "impostor")  # the same uuid, other weights (a copy, edited)
    with (impostor / WEIGHTS_NAME).open("ab") as weights:
        weights.write(b" ")
    metadata = json.loads((impostor / METADATA_NAME).read_text())
    metadata["weights"]["sha256"] = _sha(impostor / WEIGHTS_NAME)
    (impostor / METADATA_NAME).write_text(json.dumps(metadata))
    texts.append(_refusal(register, impostor, catalogue, with_ancestors=False))
    assert _sha(catalogue.objects / root_id / WEIGHTS_NAME) == _sha(root / WEIGHTS_NAME)
    texts += [tag(catalogue, child_id[:8], "candidate", remove=False),
              tag(catalogue, child_id, "candidate", remove=False),
              tag(catalogue, root_id, "production", remove=False)]
    texts.append(lineage_text(catalogue, child_id[:6]).rstrip("\n"))
    texts += [tag(catalogue, child_id, "candidate", remove=True),
              _refusal(tag, catalogue, child_id, "candidate", remove=True),
              _refusal(tag, catalogue, child_id, "Prod!", remove=False),
              _refusal(tag, catalogue, "ffff", "candidate", remove=False),
              _refusal(lineage_text, catalogue, "")]
    assert_golden(_names("\n".join(texts) + "\n", tmp_path, converted[0].parent.parent, root=root_id,
                         child=child_id), GOLDEN / "registry_register_tag_lineage.txt")


def test_gc_keeps_the_newest_per_plan_hash_the_tagged_and_their_ancestors(converted: tuple[Path, Path],
                                                                          tmp_path: Path) -> None:
    root, child = converted
    root_id, child_id = (json.loads((p / METADATA_NAME).read_text())["uuid"] for p in converted)
    source = tmp_path / "source"
    times = {name: f"2026-01-0{i}T00:00:00+00:00" for i, name in enumerate("ACDEB", start=1)}
    folders = [_copy(root, source / "a", created=times["A"]), _copy(child, source / "b", created=times["B"]),
               _copy(root, source / "c", uuid=_uuid("c"), created=times["C"]),
               _copy(child, source / "d", uuid=_uuid("d"), parent_uuid=_uuid("c"), created=times["D"]),
               _copy(root, source / "e", uuid=_uuid("e"), created=times["E"])]
    catalogue = Catalogue(tmp_path / "cat")
    for folder in folders:
        register(folder, catalogue, with_ancestors=False)
    tag(catalogue, _uuid("c"), "production", remove=False)
    tag(catalogue, _uuid("d"), "scratch", remove=False)
    tag(catalogue, _uuid("d"), "scratch", remove=True)
    before = sorted(p.name for p in catalogue.objects.iterdir())
    dry = gc(catalogue, 1, dry_run=True)
    assert sorted(p.name for p in catalogue.objects.iterdir()) == before  # a dry run deletes nothing
    done = gc(catalogue, 1, dry_run=False)
    assert catalogue.uuids() == sorted([root_id, child_id, _uuid("c")])
    assert not any(p.name.startswith(".") for p in catalogue.objects.iterdir())
    assert not (catalogue.tags_dir / _uuid("d")).exists()
    again = gc(catalogue, 1, dry_run=True)
    text = "\n".join([*dry, "", *done, "", *again, _refusal(gc, catalogue, -1, dry_run=True)]) + "\n"
    assert_golden(_names(text, tmp_path, root=root_id, child=child_id), GOLDEN / "registry_gc.txt")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_eight_registering_clis_at_once_lose_and_corrupt_nothing(converted: tuple[Path, Path],
                                                                 tmp_path: Path) -> None:
    """Eight real CLI processes; six distinct objects, two of them registered twice at the same moment; then
    eight threads tag one object at once: exactly one creates the tag."""
    root, _ = converted
    sources = [_copy(root, tmp_path / "source" / f"ckpt-{i}", uuid=_uuid("0123456789ab"[i])) for i in range(6)]
    catalogue = tmp_path / "cat"
    processes = [subprocess.Popen(runtime_command("checkpoint", "register", str(sources[i % 6]), "--catalogue",
                                                  str(catalogue)), cwd=tmp_path, env=child_env(), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(8)]
    outputs = [p.communicate(timeout=240) for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    lines = sorted(line.split(" (")[0] for out, _ in outputs for line in out.splitlines())
    assert lines == sorted([f"registered {_uuid('0123456789ab'[i])}" for i in range(6)]
                           + [f"already registered {_uuid(c)}" for c in "01"])
    store = Catalogue(catalogue)
    assert store.uuids() == sorted(_uuid("0123456789ab"[i]) for i in range(6))
    assert sorted(p.name for p in store.objects.iterdir()) == store.uuids()  # no temporary left behind
    for source in sources:
        stored = store.objects / json.loads((source / METADATA_NAME).read_text())["uuid"]
        metadata = json.loads((stored / METADATA_NAME).read_text())
        assert (stored / METADATA_NAME).read_bytes() == (source / METADATA_NAME).read_bytes()
        assert _sha(stored / WEIGHTS_NAME) == metadata["weights"]["sha256"] == _sha(source / WEIGHTS_NAME)
    said: list[str] = []
    threads = [threading.Thread(target=lambda: said.append(tag(store, _uuid("3"), "candidate", remove=False)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(said) == [f"{_uuid('3')} is already tagged candidate"] * 7 + [f"tagged {_uuid('3')} candidate"]


def _register_with_file_size_limit(source: Path, catalogue: Path, killed: bool) -> subprocess.CompletedProcess:
    """A real register whose writes stop at 20 kB (RLIMIT_FSIZE): with SIGXFSZ at its default action the kernel
    kills it in the middle of copying the weights; with SIGXFSZ ignored (Python's default) the write fails."""
    code = ("import resource, runpy, signal, sys\n"
            + ("signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n" if killed else "")
            + "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
            f"sys.argv = ['anemoi-runtime', 'checkpoint', 'register', {str(source)!r}, '--catalogue', "
            f"{str(catalogue)!r}]\n"
            "runpy.run_module('anemoic.cli.anemoi_runtime', run_name='__main__')\n")
    env = {**child_env(), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", code], cwd=source.parent, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_register_killed_mid_write_leaves_nothing_in_the_catalogue(converted: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    root, _ = converted
    assert (root / WEIGHTS_NAME).stat().st_size > 20000
    catalogue = Catalogue(tmp_path / "cat")
    done = _register_with_file_size_limit(root, catalogue.root, killed=True)
    assert done.returncode == -signal.SIGXFSZ, done.stderr
    (left,) = list(catalogue.objects.iterdir())  # the dead writer's hidden temporary, weights cut at the limit
    assert left.name.startswith(".tmp-") and (left / WEIGHTS_NAME).stat().st_size == 20000
    assert catalogue.uuids() == [] and not (left / METADATA_NAME).exists()
    failed = _register_with_file_size_limit(root, catalogue.root, killed=False)
    assert failed.returncode == 2 and failed.stdout == ""
    assert [p.name for p in catalogue.objects.iterdir()] == []  # its own temporary removed, the dead one's too
    assert_golden(_names(failed.stderr, tmp_path), GOLDEN / "registry_write_fails.txt")
    (line,) = register(root, catalogue, with_ancestors=False)
    assert line.startswith("registered ") and load_inference(catalogue.objects / catalogue.uuids()[0]).module


def test_the_cli_registers_tags_and_prints_the_lineage(converted: tuple[Path, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the CLI, the catalogue named by $ANEMOIC_CATALOGUE; refusals are one message, exit 2."""
    _, child = converted
    child_id = json.loads((child / METADATA_NAME).read_text())["uuid"]
    monkeypatch.setenv("ANEMOIC_CATALOGUE", str(tmp_path / "cat"))
    refused = run_runtime("checkpoint", "register", str(child), cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == "" and "Traceback" not in refused.stderr
    done = run_runtime("checkpoint", "register", str(child), "--with-ancestors", cwd=tmp_path)
    tagged = run_runtime("checkpoint", "tag", child_id[:8], "production", cwd=tmp_path)
    lineage = run_runtime("checkpoint", "lineage", child_id, cwd=tmp_path)
    dry = run_runtime("checkpoint", "gc", "--keep", "0", "--dry-run", cwd=tmp_path)
    assert [r.returncode for r in (done, tagged, lineage, dry)] == [0] * 4, done.stderr + lineage.stderr
    assert lineage.stdout == lineage_text(Catalogue(tmp_path / "cat"), child_id)
    assert dry.stdout == "would keep 2, would delete 0 (newest 0 per plan hash, tagged ones and their ancestors " \
                         "kept)\n"
    assert refused.stderr.startswith(f"error: {child} descends from ")
