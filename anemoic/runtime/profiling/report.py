"""The profile's numbers as a Markdown report and JSON, with one sentence naming the bottleneck.

``bottleneck`` is a pure function of the measured fractions (golden-tested on fixed numbers): the first
rule that holds names what to change, so a scientist reads one line, not a table, to know what to do.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from anemoic.runtime.profiling.clock import COMPONENTS
from anemoic.runtime.profiling.steps import PHASES, ModeTimes

COMPUTE = ("normalise", *COMPONENTS, "forward_other", "loss", "backward")
LABELS = {"data": "data wait", "to_device": "host-to-device copy", "normalise": "normalise (impute, remap, scale)",
          "encoder": "forward: encoder", "processor": "forward: processor", "decoder": "forward: decoder",
          "forward_other": "forward: embeddings, head, rollout", "loss": "loss", "backward": "backward",
          "communication": "communication (gradient all-reduce)",
          "optimiser": "optimiser (clip, AdamW, LR schedule)"}
DATA_SHARE, COPY_SHARE, COMMUNICATION_SHARE, OPTIMISER_SHARE = 0.25, 0.15, 0.25, 0.25  # shares of step time
# at which that phase is named


@dataclass
class Profile:
    """Everything ``profile`` measured; ``modes`` in the order run (real data first when both ran)."""

    plan_name: str
    plan_hash: str
    device: str
    precision: str
    rollout: int
    workers: int
    ranks: int  # processes the plan trains on
    processes: int  # processes the profile ran on (started by torchrun or srun; usually 1)
    modes: list[ModeTimes]
    parameters: dict[str, int]
    peak_rss_bytes: int
    files: list[str] = field(default_factory=list)

    def mode(self, name: str) -> ModeTimes | None:
        return next((m for m in self.modes if m.mode == name), None)


def _pct(share: float) -> str:
    return f"{round(100 * share)}%"


def bottleneck(times: ModeTimes, workers: int) -> str:
    """One sentence: the phase that limits the step and what to change."""
    share = {name: times.phases.get(name, 0.0) / times.step_s for name in PHASES} if times.step_s > 0 else {}
    if not share:
        return "no step was timed"
    if times.mode == "real" and share["data"] >= DATA_SHARE:
        return (f"data loading is {_pct(share['data'])} of step time: raise workers (now {workers}) "
                "or use read groups")
    if share["to_device"] >= COPY_SHARE:
        return (f"the host-to-device copy is {_pct(share['to_device'])} of step time: turn on pin_memory, "
                "or let each GPU read only its grid shard (read groups)")
    if share["communication"] >= COMMUNICATION_SHARE:
        return (f"communication is {_pct(share['communication'])} of step time: a larger batch per process or "
                "gradient accumulation all-reduces the gradients less often per sample")
    if share["optimiser"] >= OPTIMISER_SHARE:
        return (f"the optimiser step is {_pct(share['optimiser'])} of step time: a larger batch or gradient "
                "accumulation spreads it over more samples")
    compute = sum(share[name] for name in COMPUTE)
    largest = max(COMPONENTS, key=lambda name: share[name])
    return (f"the step is compute-bound: the model and its loss are {_pct(compute)} of step time (the {largest}'s "
            f"forward, the largest component, {_pct(share[largest])}): use bf16-mixed precision, fewer channels "
            "or layers, or more GPUs per model")


def free_data_note(real: ModeTimes, synthetic: ModeTimes) -> str:
    """How much faster a step would be if data loading cost nothing (synthetic batches)."""
    saved = 1.0 - synthetic.step_s / real.step_s if real.step_s > 0 else 0.0
    if saved <= 0.02:
        return (f"with free data loading a step would be no faster ({real.step_s:#.3g} s with the store, "
                f"{synthetic.step_s:#.3g} s with synthetic batches): data loading keeps up")
    return (f"with free data loading a step would be {_pct(saved)} faster ({real.step_s:#.3g} s with the store, "
            f"{synthetic.step_s:#.3g} s with synthetic batches)")


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.1f} MiB"


def render_markdown(profile: Profile) -> str:
    lead = profile.mode("real") or profile.modes[0]
    lines = [f"# Profile of {profile.plan_name}", "",
             f"Plan {profile.plan_hash[:12]} on {profile.device}, precision {profile.precision}, rollout "
             f"{profile.rollout}, batch {lead.batch_size}, {profile.workers} loader workers; {lead.steps} timed "
             "steps after one warm-up step.", "",
             f"**Bottleneck:** {bottleneck(lead, profile.workers)}."]
    real, synthetic = profile.mode("real"), profile.mode("synthetic")
    if real is not None and synthetic is not None:
        lines += ["", f"**Free data loading:** {free_data_note(real, synthetic)}."]
    if profile.processes > 1:
        lines += ["", f"{profile.processes} processes, each with the model whole, all-reducing the gradients "
                      "after the backward (a model group's exchanges are not in these numbers); times are rank 0's."]
    elif profile.ranks > 1:
        lines += ["", f"The plan trains on {profile.ranks} processes; this profile ran one, with the model whole: "
                      "the gradient all-reduce and the model group's exchanges are not in these numbers (start "
                      "the profile with torchrun or srun to measure the all-reduce)."]
    header = "| phase | " + " | ".join(f"{m.mode} data: s/step | share" for m in profile.modes) + " |"
    lines += ["", "## Time per step", ""]
    if "phases.png" in profile.files:
        lines += ["![Time per step by phase](phases.png)", ""]
    lines += [header, "|---|" + "---:|---:|" * len(profile.modes)]
    for name in PHASES:
        cells = " | ".join(f"{m.phases[name]:.4f} | {_pct(m.phases[name] / m.step_s)}" for m in profile.modes)
        lines.append(f"| {LABELS[name]} | {cells} |")
    sums = " | ".join(f"{sum(m.phases.values()):.4f} | {_pct(sum(m.phases.values()) / m.step_s)}"
                      for m in profile.modes)
    measured = " | ".join(f"{m.step_s:.4f} | 100%" for m in profile.modes)
    rates = " | ".join(f"{m.samples_per_s:.2f} | " for m in profile.modes)
    lines += [f"| sum of the phases | {sums} |", f"| measured step | {measured} |", f"| samples/s | {rates} |"]
    lines += ["", "## Memory", "", f"- peak CPU memory (resident set of the process): {_mib(profile.peak_rss_bytes)}"]
    for m in profile.modes:
        lines.append(f"- peak GPU memory allocated, {m.mode} data: {_mib(m.peak_gpu_bytes)}")
    total = sum(profile.parameters.values())
    lines += ["", "## Parameters", "", "| component | parameters | share |", "|---|---:|---:|"]
    lines += [f"| {name} | {count:,} | {_pct(count / total) if total else '0%'} |"
              for name, count in profile.parameters.items()]
    lines.append(f"| total | {total:,} | 100% |")
    if profile.files:
        lines += ["", "## Files", ""] + [f"- `{name}`" for name in profile.files]
    return "\n".join(lines) + "\n"


def to_json(profile: Profile) -> str:
    data: dict[str, Any] = asdict(profile)
    lead = profile.mode("real") or profile.modes[0]
    data["bottleneck"] = bottleneck(lead, profile.workers)
    for mode, raw in zip(profile.modes, data["modes"]):
        raw["samples_per_s"] = mode.samples_per_s
    real, synthetic = profile.mode("real"), profile.mode("synthetic")
    if real is not None and synthetic is not None:
        data["free_data_loading"] = free_data_note(real, synthetic)
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
