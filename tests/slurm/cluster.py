"""A real single-node SLURM cluster on localhost for tests: found running, or started and stopped here.

``local_cluster()`` is a context manager that yields when ``sinfo`` shows the
node idle.  It never installs anything: without root or without Debian's
``slurmctld``/``slurmd``/``munged`` binaries it raises ``ClusterUnavailable``
with the reason (the fixture turns that into a skip).  A cluster that was
already running (CI's ``.ci/run``, another test session) is used and left
running; one started here is stopped here.  An exclusive file lock keeps two
test sessions on this machine from starting or stopping it at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent
LOCK_PATH = Path("/tmp/anemoic-slurm-test.lock")
BINARIES = ("slurmctld", "slurmd", "munged", "sbatch", "sinfo", "squeue", "scancel")


class ClusterUnavailable(Exception):
    """SLURM cannot run here; the message says why (for a skip reason)."""


def unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "the localhost SLURM cluster needs root (slurmd runs jobs as root here)"
    missing = [name for name in BINARIES if shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists()]
    if missing:
        return (f"SLURM is not installed ({', '.join(missing)} missing): "
                "apt-get install slurmctld slurmd slurm-client munge")
    return None


def node_idle() -> bool:
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and any(state.strip("*") in ("idle", "mixed") for state in out.stdout.split())


@contextlib.contextmanager
def local_cluster() -> Iterator[None]:
    reason = unavailable_reason()
    if reason:
        raise ClusterUnavailable(reason)
    with LOCK_PATH.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = False
        if not node_idle():
            env = {**os.environ, "SLURM_TEST_CPUS": os.environ.get("SLURM_TEST_CPUS", "4"),
                   "PATH": os.environ.get("PATH", "") + ":/usr/sbin:/sbin"}
            up = subprocess.run(["bash", str(HERE / "up.sh")], capture_output=True, text=True, env=env,
                                timeout=120)
            started = True
            if up.returncode != 0:
                _stop()
                raise RuntimeError(f"the localhost SLURM cluster did not start:\n{up.stdout}\n{up.stderr}")
        try:
            yield
        finally:
            if started:
                _stop()


def _stop() -> None:
    subprocess.run(["bash", str(HERE / "down.sh")], capture_output=True, text=True, timeout=120)
