"""Start a worker module in ``world`` real processes that form a gloo process group (CPU), and wait."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(module: str, world: int, out: Path, payload: Any, timeout: float = 300, **env: str) -> list[str]:
    """``python -m module RANK WORLD PORT OUT PAYLOAD_JSON`` on every rank (``env``: extra environment); the
    ranks' stderr tails on failure."""
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    processes = [subprocess.Popen([sys.executable, "-m", module, str(rank), str(world), str(port), str(out),
                                   json.dumps(payload)], env=child_env(**env), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for rank in range(world)]
    failures = []
    try:
        for rank, process in enumerate(processes):
            _, err = process.communicate(timeout=timeout)
            if process.returncode:
                failures.append(f"rank {rank} exited {process.returncode}:\n{err[-3000:]}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    return failures
