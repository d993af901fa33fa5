"""Which MLflow run a resumed training run continues: a small record beside its checkpoints.

Why a file: the MLflow run id has to outlive the process (SIGKILL, SLURM requeue), and the
checkpoint directory is what ``--resume`` and the requeue logic already find.  It lives in
``RUN_DIR/checkpoints/`` like the requeue marker, so archiving an earlier run's checkpoints
(``checkpoints.before-*``) moves the record along and resuming that archive continues its own
MLflow run.  Why the checks: continuing a run id the store does not know (another URI, a
deleted run) would fail inside Lightning with a traceback; instead a new run is opened and one
note says why.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from anemoic.plan.io import write_text_atomic

RECORD_NAME = "tracking.json"
_FIELDS = ("run_id", "tracking_uri", "experiment")


@dataclass(frozen=True)
class TrackingRecord:
    run_id: str
    tracking_uri: str
    experiment: str


class UnusableRecord(Exception):
    """The record cannot name a run to continue; the message completes "the resumed run is ...: "."""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def write_record(checkpoint_dir: Path, record: TrackingRecord) -> None:
    write_text_atomic(checkpoint_dir / RECORD_NAME, json.dumps(asdict(record), indent=1) + "\n")


def read_record(checkpoint_dir: Path) -> TrackingRecord:
    path = checkpoint_dir / RECORD_NAME
    if not path.is_file():
        raise UnusableRecord(f"{path} does not exist")
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UnusableRecord(f"{path} is unreadable ({_first_line(exc)})") from None
    if not isinstance(content, dict) or not all(isinstance(content.get(k), str) and content[k] for k in _FIELDS):
        raise UnusableRecord(f"{path} is unreadable (it needs the strings {', '.join(_FIELDS)})")
    return TrackingRecord(**{k: content[k] for k in _FIELDS})


def check_run(record: TrackingRecord, path: Path, tracking_uri: str, experiment: str) -> None:
    """Raise ``UnusableRecord`` unless the recorded run exists, alive, in this plan's store and experiment."""
    if record.tracking_uri != tracking_uri:
        raise UnusableRecord(f"{path} names MLflow run {record.run_id} in {record.tracking_uri}, "
                             f"but the plan tracks to {tracking_uri}")
    if record.experiment != experiment:
        raise UnusableRecord(f"{path} names MLflow run {record.run_id} of experiment {record.experiment!r}, "
                             f"but the plan's experiment is {experiment!r}")
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    named = f"MLflow run {record.run_id} (named in {path})"
    try:
        run = MlflowClient(tracking_uri).get_run(record.run_id)
    except MlflowException:
        raise UnusableRecord(f"{named} is not in {tracking_uri}") from None
    except Exception as exc:  # a server that does not answer, a damaged database: never a traceback here
        raise UnusableRecord(f"looking up {named} in {tracking_uri} failed ({_first_line(exc)})") from None
    if run.info.lifecycle_stage == "deleted":
        raise UnusableRecord(f"{named} was deleted from {tracking_uri}")


def new_run_note(reason: str) -> str:
    return f"note: the resumed run is tracked as a new MLflow run: {reason}"


def continued_run(checkpoint_dir: Path, tracking_uri: str, experiment: str) -> tuple[str | None, str | None]:
    """``(run id, None)`` when the run recorded in ``checkpoint_dir`` can go on, else ``(None, note)``."""
    try:
        record = read_record(checkpoint_dir)
        check_run(record, checkpoint_dir / RECORD_NAME, tracking_uri, experiment)
    except UnusableRecord as problem:
        return None, new_run_note(str(problem))
    return record.run_id, None
