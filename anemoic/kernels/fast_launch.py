"""Launch a Triton kernel through its compiled handle once it has been compiled for a call signature.

A layer call at o96 sizes is a few hundred microseconds of GPU work issued by three launches, so the
host side of each launch shows in wall time. ``JITFunction.run`` binds and specialises every argument,
builds a cache key string and checks globals on every call; here the compiled kernel returned by the
first launch is kept per (kernel, tiles, dtypes, device, alignment) and later calls go straight to its
launcher. What triton specialises on for these kernels is exactly that key: tensor dtypes, 16-byte
alignment of the pointers and the constexpr values (H, C, tiles); the float scales are not specialised.
Misaligned pointers (a slice at an odd offset) and the CPU interpreter always take the normal path.
"""

from __future__ import annotations

import os

import torch

ENABLED = os.environ.get("ANEMOIC_FAST_LAUNCH", "1") != "0"  # benchmarks flip this to compare both paths
_INTERPRETING = os.environ.get("TRITON_INTERPRET") == "1"  # read once: set before triton is imported or never
_compiled: dict[tuple, tuple] = {}  # key -> (compiled kernel, the tile constants in parameter order)


def launch(kernel, grid: tuple[int, int], config, args: tuple, acc) -> None:  # noqa: ANN001
    """Run ``kernel[grid](*args, <tile constants>)`` with ``config``'s warps and stages.

    ``args`` are the kernel's leading parameters in order: tensors, float scales, then H and C (ints);
    the tile constants follow from ``config.constants()`` and the accumulation dtype ``acc``.
    """
    if ENABLED and not _INTERPRETING:
        tensors = [arg for arg in args if type(arg) is torch.Tensor]
        aligned = not any(tensor.data_ptr() % 16 for tensor in tensors)
        key = (kernel, config, str(acc), args[-2], args[-1], args[0].get_device(), *(t.dtype for t in tensors))
        entry = _compiled.get(key) if aligned else None
        if entry is not None:
            compiled, tail = entry
            compiled[(grid[0], grid[1], 1)](*args, *tail)
            return
    constants = config.constants()
    constants["ACC"] = acc
    compiled = kernel[grid](*args, **constants, num_warps=config.num_warps, num_stages=config.num_stages)
    if ENABLED and not _INTERPRETING and aligned and hasattr(compiled, "__getitem__"):
        _compiled[key] = (compiled, tuple(constants[name] for name in kernel.arg_names[len(args) :]))
