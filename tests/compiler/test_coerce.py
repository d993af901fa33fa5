"""Digit-led words read by where they are used: variables, durations, memory sizes."""

from __future__ import annotations

from pathlib import Path

from anemoic.compiler.api import compile_source

BASE = Path(__file__).with_name("base.anm").read_text()


def compile_text(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    result = compile_source(text, str(tmp_path / "exp.anm"))
    assert not result.has_errors(), result.render()
    return result.plans[0]


def test_2d_is_a_variable_in_a_list_and_a_duration_as_a_timestep(tmp_path: Path) -> None:
    text = BASE.replace("surface(2t, 10u", "surface(2d, 2t, 10u").replace("timestep = 6h", "timestep = 2d") \
        .replace("rollout = 1 -> 4 by 1 every epoch", "rollout = 1")
    plan = compile_text(text, tmp_path)
    assert "2d" in plan.indices.prognostic
    assert plan.task.timestep_s == 2 * 86400


def test_units_steps_memory_and_tracking_off(tmp_path: Path) -> None:
    text = BASE.replace("checkpoint_every = 30m", "checkpoint_every = 1000 steps") + \
        'tracking = off\nsite s { time = 1d; mem = 256GB; device_memory = 80GB; signal_lead = 90s }\n'
    plan = compile_text(text, tmp_path)
    assert (plan.outputs.checkpoint_every_steps, plan.outputs.checkpoint_every_minutes) == (1000, None)
    assert plan.outputs.tracking.enabled is False
    assert (plan.site.time_limit_s, plan.site.mem, plan.site.device_memory_gb, plan.site.signal_lead_s) == \
        (86400, "256G", 80.0, 90)


def test_monthly_frequency(tmp_path: Path) -> None:
    text = BASE.replace("frequency = 6h", "frequency = 1mo").replace("timestep = 6h", "timestep = 1mo") \
        .replace('zarr("store.zarr")', 'zarr("absent.zarr")') \
        .replace("train = 2020-01-01..2020-01-20", "train = 1991..2014") \
        .replace("validate = 2020-01-21..2020-01-31", "validate = 2015..2018")
    plan = compile_text(text, tmp_path)
    assert plan.dataset.frequency_s == 2_629_800
    assert plan.dataset.train.end == "2014-12-31T00:00:00"
