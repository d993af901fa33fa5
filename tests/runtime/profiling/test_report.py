"""The bottleneck sentence and the Markdown report, on fixed numbers (golden)."""

from __future__ import annotations

from pathlib import Path

from anemoic.runtime.profiling.report import Profile, bottleneck, free_data_note, render_markdown, to_json
from anemoic.runtime.profiling.steps import PHASES, ModeTimes
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def times(mode: str = "real", **seconds: float) -> ModeTimes:
    """A step of 1 s split as given; what is not named goes to the backward pass."""
    phases = {name: seconds.get(name, 0.0) for name in PHASES}
    phases["backward"] = 1.0 - sum(v for k, v in phases.items() if k != "backward")
    return ModeTimes(mode, steps=10, batch_size=4, step_s=1.0, phases=phases)


CASES = {
    "data-bound": times(data=0.38, processor=0.2, optimiser=0.05),
    "data-bound, synthetic (data is never named)": times("synthetic", data=0.38, processor=0.2),
    "data just below the threshold": times(data=0.24, processor=0.3, optimiser=0.05),
    "host-to-device copy": times(to_device=0.2, encoder=0.1, optimiser=0.05),
    "optimiser": times(optimiser=0.3, decoder=0.2),
    "communication": times(communication=0.3, optimiser=0.3, processor=0.2),
    "compute, processor largest": times(data=0.05, encoder=0.1, processor=0.25, decoder=0.1, optimiser=0.05),
    "compute, decoder largest": times(encoder=0.1, processor=0.05, decoder=0.3),
}


def test_bottleneck_sentences() -> None:
    text = "".join(f"{name}:\n  {bottleneck(t, workers=2)}\n" for name, t in CASES.items())
    real, synthetic = times(data=0.38), times("synthetic")
    synthetic.step_s = 0.62
    text += f"free data loading:\n  {free_data_note(real, synthetic)}\n"
    synthetic.step_s = 0.99
    text += f"free data loading, nothing to gain:\n  {free_data_note(real, synthetic)}\n"
    assert_golden(text, GOLDEN / "bottleneck.txt")


def sample_profile() -> Profile:
    real = times(data=0.38, to_device=0.01, normalise=0.01, encoder=0.1, processor=0.2, decoder=0.1,
                 forward_other=0.02, loss=0.01, optimiser=0.05)
    synthetic = ModeTimes("synthetic", 10, 4, 0.62, {**real.phases, "data": 0.0}, None)
    return Profile("quickstart", "ab" * 32, "CPU (2 threads)", "32", 1, 2, 1, 1, [real, synthetic],
                   {"encoder": 1000, "processor": 3000, "decoder": 1000, "other": 5000}, 600 * 2**20,
                   ["trace.json", "phases.png", "profile.md", "profile.json"])


def test_markdown_report() -> None:
    assert_golden(render_markdown(sample_profile()), GOLDEN / "profile.md")


def test_json_holds_the_sentence_and_every_phase() -> None:
    import json

    data = json.loads(to_json(sample_profile()))
    assert data["bottleneck"].startswith("data loading is 38% of step time")
    assert set(data["modes"][0]["phases"]) == set(PHASES)
    assert data["modes"][1]["samples_per_s"] == 4 / 0.62
    assert "38% faster" in data["free_data_loading"]
