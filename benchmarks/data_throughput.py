"""Throughput of the sample loader against a plain zarr read loop and a sequential disk read.

    .venv/bin/python benchmarks/data_throughput.py [--grid o96] [--variables 100] [--dates 36] [--samples 24]

Writes an AIFS-shaped synthetic store (o96: 40,320 points x 100 variables) to a
temporary folder, then, in the same run and on the same samples (windows of
``--window`` consecutive dates):
- loader: ``WindowDataset`` through a single-process ``DataLoader`` (batch 1), i.e. what
  training gets: float32 ``(time, ensemble, grid, variable)`` tensors;
- zarr loop: ``zarr.open_array(...)[date]`` for every date of every sample (no reordering);
- disk: every chunk file of ``data`` read sequentially with 8 MiB reads (dd-style;
  the page cache is warm, as after writing, so this is the memory-bandwidth ceiling).
Prints samples/s, MB/s (decoded float32 bytes; disk: bytes on disk) and the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", default="o96")
    parser.add_argument("--variables", type=int, default=100)
    parser.add_argument("--dates", type=int, default=36)
    parser.add_argument("--samples", type=int, default=24)
    parser.add_argument("--window", type=int, default=3, help="states per sample (multistep 2 + rollout 1)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", help="write the store here and keep it (default: a temporary folder)")
    args = parser.parse_args()

    import torch
    import zarr
    from torch.utils.data import DataLoader

    from anemoic.runtime.data.dataset import Channel, WindowDataset, collate_samples
    from anemoic.datasets.store import open_store
    from anemoic.datasets.synth import write_synthetic_store

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="anemoic-bench-"))
    path = folder / "bench.zarr"
    names = [f"z_{50 * (i + 1)}" if i < 13 else f"var{i:03d}" for i in range(args.variables)]
    hours = 6 * (args.dates - 1)
    end = np.datetime64("2020-01-01T00:00") + np.timedelta64(hours, "h")
    start = time.perf_counter()
    if not path.exists():
        write_synthetic_store(path, grid=args.grid, variables=names, end=str(end))
    print(f"store: {path} ({time.perf_counter() - start:.1f} s to write)")
    store = open_store(path)
    meta = store.metadata
    print(f"shape: {meta.date_count} dates x {len(meta.variables)} variables x {meta.ensemble_size} x "
          f"{meta.grid_size} points; chunks (1, V, 1, G), blosc lz4")

    rng = np.random.default_rng(0)
    starts = np.sort(rng.choice(meta.date_count - args.window + 1, size=args.samples, replace=True))
    channels = [Channel(name, i) for i, name in enumerate(meta.variables)]
    dataset = WindowDataset(str(path), channels, starts, step=1, length=args.window, check_nans=False)
    sample_bytes = args.window * meta.ensemble_size * meta.grid_size * len(channels) * 4

    def loader() -> None:
        for batch in DataLoader(dataset, batch_size=1, num_workers=0, collate_fn=collate_samples):
            assert batch.shape[-1] == len(channels)

    array = zarr.open_array(str(path / "data"), mode="r")

    def zarr_loop() -> None:
        for first in starts:
            for t in range(args.window):
                block = array[int(first) + t]
                assert block.dtype == np.float32

    files = sorted((path / "data").glob("*.*.*.*"))
    disk_bytes = sum(f.stat().st_size for f in files)

    def disk() -> None:
        for f in files:
            with open(f, "rb", buffering=0) as handle:
                while handle.read(8 << 20):
                    pass

    torch.set_num_threads(1)
    loader()  # warm up: open the store, fill the page cache
    t_loader = _best_of(args.repeats, loader)
    t_zarr = _best_of(args.repeats, zarr_loop)
    t_disk = _best_of(args.repeats, disk)
    n = args.samples
    mb = sample_bytes * n / 1e6
    print(f"{'reader':<12}{'samples/s':>12}{'MB/s':>10}{'vs zarr loop':>14}")
    print(f"{'loader':<12}{n / t_loader:>12.2f}{mb / t_loader:>10.0f}{t_zarr / t_loader:>14.2f}")
    print(f"{'zarr loop':<12}{n / t_zarr:>12.2f}{mb / t_zarr:>10.0f}{1.0:>14.2f}")
    print(f"{'disk (dd)':<12}{'':>12}{disk_bytes / 1e6 / t_disk:>10.0f}{'':>14}")
    print(f"loader / zarr loop throughput: {t_zarr / t_loader:.2f} (target >= 0.80)")
    print(f"sample: {sample_bytes / 1e6:.1f} MB decoded; compression ratio on disk "
          f"{meta.date_count * sample_bytes / args.window / max(disk_bytes, 1):.2f}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
