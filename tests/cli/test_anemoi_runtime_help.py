"""The help texts of `anemoi-runtime` (golden): what a user reads before anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from anemoic.cli.anemoi_runtime import main
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("command", ["", "exec", "profile", "predict", "evaluate", "compare", "checkpoint",
                                     "checkpoint convert", "checkpoint list", "checkpoint show",
                                     "checkpoint register", "checkpoint tag", "checkpoint untag",
                                     "checkpoint lineage", "checkpoint gc"])
def test_help_text(command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_:
        main([*command.split(), "--help"])
    assert exit_.value.code == 0
    assert_golden(capsys.readouterr().out, GOLDEN / f"help_{command.replace(' ', '_') or 'main'}.txt")


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train"])
    assert exit_.value.code == 2 and "invalid choice: 'train'" in capsys.readouterr().err


def test_the_cli_module_is_light_and_sets_passive_openmp_waiting_before_torch_loads() -> None:
    import subprocess
    import sys

    code = ("import sys, os, anemoic.cli.anemoi_runtime; "
            "print('torch' in sys.modules, 'lightning' in sys.modules, os.environ['OMP_WAIT_POLICY'])")
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["False", "False", "PASSIVE"]
