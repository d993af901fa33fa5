"""The run record beside the checkpoints, checked against a real MLflow sqlite store."""

from __future__ import annotations

from pathlib import Path

from anemoic.runtime.tracking.continuation import RECORD_NAME, TrackingRecord, continued_run, read_record, \
    write_record
from anemoic.runtime.tracking.mlflow_tracking import LIGHTNING_PARAM_CHARS, split_params
from tests.golden import assert_golden

GOLDEN = Path(__file__).with_name("golden")


def _store_with_runs(directory: Path) -> tuple[str, str, str]:
    """A real sqlite store holding one live and one deleted run of experiment ``tests``."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{directory / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("tests", artifact_location=str(directory / "mlartifacts"))
    live, deleted = (client.create_run(experiment).info.run_id for _ in range(2))
    client.delete_run(deleted)
    return uri, live, deleted


def test_a_live_run_of_the_same_store_and_experiment_is_continued(tmp_path: Path) -> None:
    uri, live, _ = _store_with_runs(tmp_path)
    write_record(tmp_path / "checkpoints", TrackingRecord(live, uri, "tests"))
    assert read_record(tmp_path / "checkpoints") == TrackingRecord(live, uri, "tests")
    assert continued_run(tmp_path / "checkpoints", uri, "tests") == (live, None)
    assert not [p for p in (tmp_path / "checkpoints").iterdir() if p.name != RECORD_NAME]  # no temporaries left


def test_notes_when_the_recorded_run_cannot_be_continued_golden(tmp_path: Path) -> None:
    uri, live, deleted = _store_with_runs(tmp_path)
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    record = folder / RECORD_NAME
    notes = []

    def note(run_uri: str = uri, experiment: str = "tests") -> None:
        run_id, text = continued_run(folder, run_uri, experiment)
        assert run_id is None and text is not None and "\n" not in text
        notes.append(text)

    note()  # missing
    record.write_text("{\"run_id\": \"abc\"")
    note()  # truncated
    record.write_text("{\"run_id\": \"abc\", \"tracking_uri\": 3}")
    note()  # wrong content
    write_record(folder, TrackingRecord(live, "sqlite:////elsewhere/mlflow.db", "tests"))
    note()  # another store
    write_record(folder, TrackingRecord(live, uri, "old-experiment"))
    note()  # another experiment
    write_record(folder, TrackingRecord("0" * 32, uri, "tests"))
    note()  # not in the store
    write_record(folder, TrackingRecord(deleted, uri, "tests"))
    note()  # deleted
    text = "\n".join(notes).replace(live, "<live-run>").replace(deleted, "<deleted-run>")
    assert_golden(text.replace(str(tmp_path), "<tmp>") + "\n", GOLDEN / "new_run_notes.txt")


def test_a_continued_run_logs_only_new_params_and_keeps_changed_ones_as_tags() -> None:
    long_value = "x" * 600
    logged = {"training.batch_size": "1", "training.max_steps": "16", "long": long_value[:LIGHTNING_PARAM_CHARS]}
    wanted = {"training.batch_size": "1", "training.max_steps": "32", "long": long_value, "site.name": "hpc"}
    assert split_params(wanted, logged) == ({"site.name": "hpc"}, {"training.max_steps": "32"})
