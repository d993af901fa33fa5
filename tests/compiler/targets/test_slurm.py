"""The SLURM job script: directives for Lightning, checks of the site, bash syntax, golden text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from anemoic.compiler.targets.slurm import check_slurm, format_time_limit, job_name, render_sbatch
from tests.factories import make_plan
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"
OUT, WORK = Path("/scratch/exp/build/aifs"), Path("/scratch/exp")
GPU_SITE = {
    "name": "aifs", "parallel.nodes": 2, "parallel.processes_per_node": 4, "parallel.gpus_per_model": 2,
    "parallel.data_parallel_size": 4, "parallel.accelerator": "gpu",
    "site.partition": "gpu", "site.account": "ecmwf", "site.qos": "normal", "site.time_limit_s": 2 * 86400 + 3600,
    "site.cpus_per_task": 32, "site.modules": ("cuda/12.4", "python3/3.11"), "site.venv": "/home/me/venv",
    "site.signal_lead_s": 300, "site.extra_directives": ("--exclusive",),
}


def _bash_syntax_ok(text: str, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text(text)
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gpu_job_script_golden(tmp_path: Path) -> None:
    text = render_sbatch([make_plan(**GPU_SITE)], source="examples/aifs.anm", out_dir=OUT, workdir=WORK,
                         hashes=["ab" * 32])
    assert_golden(text, GOLDEN / "job_gpu.sbatch")
    _bash_syntax_ok(text, tmp_path)
    for directive in ("--nodes=2", "--ntasks-per-node=4", "--gpus-per-node=4", "--cpus-per-task=32",
                      "--time=2-01:00:00", "--signal=SIGUSR1@300", "--requeue", "--output=/scratch/exp/build/aifs/slurm-%j.out",
                      "--partition=gpu", "--account=ecmwf", "--qos=normal", "--exclusive"):
        assert f"#SBATCH {directive}\n" in text
    # model groups of 2 consecutive ranks, placed in blocks: each group on one node
    assert "srun --kill-on-bad-exit=1 --distribution=block anemoi-runtime exec \"$PLAN\"" in text
    assert "# 4 model group(s) of 2 ranks sharded by edges (ranks 0-1, 2-3, 4-5, 6-7: one node each)" in text


def test_a_model_group_wider_than_a_node_is_said_to_span_nodes() -> None:
    plan = make_plan(**{**GPU_SITE, "parallel.gpus_per_model": 8, "parallel.shard_strategy": "heads",
                        "parallel.read_group_size": 8})
    text = render_sbatch([plan], source="x.anm", out_dir=OUT, workdir=WORK, hashes=["0" * 64])
    assert "# 1 model group(s) of 8 ranks sharded by heads (ranks 0-7: spanning nodes); read groups of 8" in text


def test_cpu_sweep_array_golden(tmp_path: Path) -> None:
    plans = [make_plan(**{"parallel.processes_per_node": 2, "site.mem": None}) for _ in range(3)]
    text = render_sbatch(plans, source="sweep.anm", out_dir=OUT, workdir=WORK, hashes=["cd" * 32] * 3)
    assert_golden(text, GOLDEN / "job_cpu_array.sbatch")
    _bash_syntax_ok(text, tmp_path)
    assert "#SBATCH --array=0-2\n" in text and "slurm-%A_%a.out" in text
    assert "--gpus-per-node" not in text and "--mem" not in text and "module load" not in text
    assert 'PLAN=/scratch/exp/build/aifs/"$SLURM_ARRAY_TASK_ID"/plan.json' in text


def test_shell_values_are_quoted(tmp_path: Path) -> None:
    text = render_sbatch([make_plan(**{"site.modules": ("a b; rm -rf /",), "site.venv": "/v w"})], source="x.anm",
                         out_dir=OUT, workdir=WORK, hashes=["0" * 64])
    assert "module load 'a b; rm -rf /'\n" in text and "source '/v w'/bin/activate" in text
    _bash_syntax_ok(text, tmp_path)


@pytest.mark.parametrize(("seconds", "text"), [(59, "00:00:59"), (3600, "01:00:00"), (90061, "1-01:01:01")])
def test_time_limit_format(seconds: int, text: str) -> None:
    assert format_time_limit(seconds) == text


def test_job_names_that_switch_lightning_off_are_renamed() -> None:
    assert job_name(make_plan(name="bash")) == "bash-run"
    assert job_name(make_plan(name="my exp")) == "my_exp"


def _codes(plans, out=OUT, work=WORK) -> list[str]:
    return [d.code for d in check_slurm(plans, out_dir=out, workdir=work)]


def test_site_checks() -> None:
    assert _codes([make_plan()]) == []
    assert _codes([make_plan(**{"site.time_limit_s": 100, "site.signal_lead_s": 120})]) == ["E0903"]
    short = make_plan(**{"site.time_limit_s": 60, "source_map": {"site.time_limit_s": "exp.anm:7:10"}})
    found = check_slurm([short], out_dir=OUT, workdir=WORK)
    assert [d.code for d in found] == ["E0903"]
    assert found[0].span is not None and found[0].span.location() == "exp.anm:7:10"
    assert _codes([make_plan()], work=Path("/my dir")) == ["E0902"]
    assert _codes([make_plan(**{"site.extra_directives": ("exclusive",)})]) == ["E0905"]
    assert _codes([make_plan(), make_plan(**{"parallel.nodes": 2})]) == ["E0901"]
