"""Kernel tests run the Triton kernels through triton's CPU interpreter where no GPU is present.

TRITON_INTERPRET is read when a kernel is decorated, so it is set here, before any test module
imports ``anemoic.kernels.triton_kernels`` (``anemoic.kernels`` imports it lazily).
"""

from __future__ import annotations

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
