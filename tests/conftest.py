"""Shared test configuration: skip GPU/slow tests with a stated reason where they cannot run."""

from __future__ import annotations

import os

import pytest


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_configure(config: pytest.Config) -> None:
    """Run Triton kernels through triton's CPU interpreter where no GPU is present.

    TRITON_INTERPRET is read when a kernel is decorated, so it must be set before any test
    module (kernels, models, training) imports ``anemoic.kernels.triton_kernels``.
    """
    if "TRITON_INTERPRET" not in os.environ and not _cuda_available():
        os.environ["TRITON_INTERPRET"] = "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = os.environ.get("ANEMOIC_SLOW") == "1"
    has_gpu = None
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow test: set ANEMOIC_SLOW=1 to run it"))
        if "gpu" in item.keywords:
            if has_gpu is None:
                has_gpu = _cuda_available()
            if not has_gpu:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU; none is present on this machine"))
