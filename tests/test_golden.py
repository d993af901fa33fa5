"""The golden-file helper itself: compare, fail with a diff or a recipe, rewrite on request; case files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import assert_golden, format_cases, parse_cases


def test_equal_text_passes_and_a_difference_shows_a_unified_diff(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANEMOIC_UPDATE_GOLDEN", raising=False)
    golden = tmp_path / "g.txt"
    golden.write_text("one\ntwo\nthree\n")
    assert_golden("one\ntwo\nthree\n", golden)
    with pytest.raises(AssertionError) as failed:
        assert_golden("one\n2\nthree\n", golden)
    message = str(failed.value)
    assert "ANEMOIC_UPDATE_GOLDEN=1" in message and str(golden) in message
    assert "--- g.txt (golden)\n+++ g.txt (produced)\n" in message and "\n-two\n+2\n" in message
    assert golden.read_text() == "one\ntwo\nthree\n"


def test_a_missing_golden_fails_with_how_to_create_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANEMOIC_UPDATE_GOLDEN", raising=False)
    with pytest.raises(AssertionError, match=r"missing; create it with `ANEMOIC_UPDATE_GOLDEN=1 pytest"):
        assert_golden("text\n", tmp_path / "absent.txt")
    assert not (tmp_path / "absent.txt").exists()


def test_update_mode_writes_instead_of_comparing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANEMOIC_UPDATE_GOLDEN", "1")
    golden = tmp_path / "new" / "g.txt"
    assert_golden("first\n", golden)
    assert_golden("second\n", golden)
    assert golden.read_text() == "second\n"


def test_case_files_round_trip_byte_for_byte() -> None:
    text = "a comment\n-- exp.anm --\nlet x = 1\n\n-- other.anm --\n-- expected --\nok: 1 plan\n  -- not a header\n"
    comment, sections = parse_cases(text)
    assert comment == "a comment\n"
    assert sections == [("exp.anm", "let x = 1\n\n"), ("other.anm", ""), ("expected", "ok: 1 plan\n  -- not a header\n")]
    assert format_cases(comment, sections) == text
    with pytest.raises(ValueError, match="appears twice"):
        parse_cases("-- a --\n-- a --\n")
    with pytest.raises(ValueError, match="must end with a newline"):
        format_cases("", [("exp.anm", "no newline")])
    with pytest.raises(ValueError, match="reads as a section header"):
        format_cases("", [("exp.anm", "-- b --\n")])
