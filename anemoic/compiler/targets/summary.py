"""The short report ``anemoic build`` prints: what was built, how big it is, where it went, how to run it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from anemoic.compiler.estimates import human_bytes
from anemoic.compiler.targets.outputs import BuildOutput, display_path
from anemoic.plan.model import Plan
from anemoic.plan.units import format_duration


def human_count(value: int) -> str:
    """1234 -> 1,234; 12_345_678 -> 12.3 M (people compare model sizes at a glance)."""
    if value >= 10_000_000_000:
        return f"{value / 1e9:.1f} G"
    if value >= 10_000_000:
        return f"{value / 1e6:.1f} M"
    return f"{value:,}"


def _graph_line(plan: Plan) -> str:
    est = plan.estimates
    nodes = " · ".join(f"{k} {human_count(v)}" for k, v in sorted(est.graph_nodes.items()))
    edges = " · ".join(f"{k} {human_count(est.graph_edges[k])}"
                       for k in ("encoder", "processor", "decoder") if k in est.graph_edges)
    if not edges:
        return f"nodes {nodes}; edge counts unavailable"
    exact = "" if est.exact else " (approximate)"
    return f"nodes {nodes}; edges {edges}{exact}"


def _memory_line(plan: Plan) -> str:
    est, model, parallel = plan.estimates, plan.model, plan.parallel
    total = est.activation_bytes_per_gpu + est.parameter_state_bytes_per_gpu
    limit = f" of {plan.site.device_memory_gb:g} GiB" if plan.site.device_memory_gb is not None else ""
    checkpointing = "on" if model.gradient_checkpointing else "off"
    return (f"~{human_bytes(total)}{limit} per GPU = {human_bytes(est.activation_bytes_per_gpu)} activations + "
            f"{human_bytes(est.parameter_state_bytes_per_gpu)} weights/optimiser "
            f"(precision {plan.training.precision}, {parallel.gpus_per_model} GPU(s) per model, "
            f"gradient checkpointing {checkpointing})")


def _member_values(plan: Plan) -> str:
    if plan.sweep is None:
        return ""
    return " ".join(f"{key}={value}" for key, value in sorted(plan.sweep.values.items()))


def render_summary(plans: Sequence[Plan], output: BuildOutput, *, source: str, target: str,
                   workdir: Path) -> str:
    first = plans[0]
    count = len(plans)
    noun = f"{count} plans (sweep {first.sweep.sweep})" if count > 1 and first.sweep else \
        f"{count} plan{'s' if count != 1 else ''}"
    lines = [f"built {noun} from {source} for target {target}"]
    if count == 1:
        lines.append(f"  plan    {display_path(output.plan_files[0], workdir)}  sha256:{output.hashes[0]}")
    else:
        for index, (plan, path, digest) in enumerate(zip(plans, output.plan_files, output.hashes)):
            lines.append(f"  [{index}]     {display_path(path, workdir)}  sha256:{digest[:12]}  "
                         f"{_member_values(plan)}".rstrip())
    if count > 1:
        lines.append("  member 0:")
    lines.append(f"  graph   {_graph_line(first)}")
    if first.boundary is not None:  # a limited-area model: which points of the data grid come from where
        region, boundary = first.dataset, first.boundary
        around = first.estimates.graph_nodes.get("data", 0) - region.grid_size
        lines.append(f"  region  {region.name} ({human_count(region.grid_size)} points, the output mask), boundary "
                     f"{boundary.dataset.name} ({human_count(max(around, 0))} of "
                     f"{human_count(boundary.dataset.grid_size)} points, beyond {boundary.margin_km:g} km), forced "
                     "at every step")
    model = first.model
    processor = f"no processor (an autoencoder), {model.channels} channels" if first.task.kind == "autoencoder" \
        else f"{model.processor} processor ({model.layers} layers, {model.channels} channels)"
    lines.append(f"  model   {processor}, "
                 f"{model.encoder}/{model.decoder} mappers: {human_count(first.estimates.parameter_count)} "
                 "parameters")
    task = first.task
    if task.kind == "temporal_downscaler":
        at = lambda offsets: ", ".join(f"t+{format_duration(o * task.timestep_s)}" if o else "t"  # noqa: E731
                                       for o in offsets)
        inputs = at(task.input_offsets).rsplit(", ", 1)
        lines.append(f"  task    temporal downscaler: {at(task.target_offsets)} from {' and '.join(inputs)}, "
                     "in one pass")
    method = first.task.method
    if method.noise is not None:
        lines.append(f"  method  an ensemble of {method.members} members, {method.noise.kind} noise "
                     f"({method.noise.channels} channels) on the hidden mesh")
    if first.training.init is not None:
        lines.append(f"  init    the {', '.join(first.training.init.parts)} of "
                     f"{display_path(Path(first.training.init.checkpoint), workdir)}; the rest freshly initialised")
    lines.append(f"  memory  {_memory_line(first)}")
    parallel = first.parallel
    sharded = "" if parallel.gpus_per_model == 1 else (
        f" (sharded by {parallel.shard_strategy}, read groups of {parallel.read_group_size}"
        f"{', batch kept sharded' if parallel.keep_batch_sharded else ''})")
    lines.append(f"  layout  {parallel.nodes} node(s) x {parallel.processes_per_node} {_device(first)}(s), "
                 f"{parallel.gpus_per_model} per model{sharded}, data-parallel {parallel.data_parallel_size}")
    if output.script is not None:
        script = display_path(output.script, workdir)
        how = f"sbatch {script}" if target == "slurm" else f"bash {script}"
        if target == "local" and count > 1:
            how += "  (or: bash " + script + " MEMBER)"
        lines.append(f"  run     {how}")
    return "\n".join(lines) + "\n"


def _device(plan: Plan) -> str:
    return "CPU task" if plan.parallel.accelerator == "cpu" else "GPU"
