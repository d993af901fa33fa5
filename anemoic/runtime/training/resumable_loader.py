"""A training data loader that resumes mid-epoch at the batch where a killed run stopped.

Lightning saves and restores the state of any train loader that has
``state_dict``/``load_state_dict``.  Ours records how many batches of the
current epoch were handed out (Lightning does not prefetch when the length is
known, so handed out == trained on) and, after a restore, skips that many
batches *in the sampler* so no skipped sample is read.  It also remembers
the sample indices it handed out in the current epoch, for the per-rank run summary.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader


class ResumableLoader:
    def __init__(self, loader: DataLoader, limit: int | None = None) -> None:
        self.loader = loader
        self.limit = limit  # applied here, not by Lightning, so "done" always means "epoch finished"
        self._handed_out = 0
        self._skip = 0
        self.seen_indices: list[int] = []

    # Lightning calls set_epoch on these; forwarding keeps the data engineer's epoch-seeded order.
    @property
    def sampler(self) -> Any:
        return self.loader.sampler

    @property
    def batch_sampler(self) -> Any:
        return self.loader.batch_sampler

    @property
    def dataset(self) -> Any:
        return self.loader.dataset

    def __len__(self) -> int:
        full = len(self.loader)
        return full if self.limit is None else min(full, self.limit)

    def state_dict(self) -> dict[str, int]:
        return {"batches_done": self._handed_out}

    def load_state_dict(self, state: dict[str, int]) -> None:
        done = int(state.get("batches_done", 0))
        self._skip = done if done < len(self) else 0
        self._handed_out = self._skip

    def _batches_of_indices(self, skip: int) -> Iterator[list[int]]:
        return itertools.islice(iter(self.loader.batch_sampler), skip, len(self))

    def __iter__(self) -> Iterator[Any]:
        skip, self._skip = self._skip, 0
        self._handed_out = skip
        if skip == 0:  # a fresh epoch: keep only this epoch's indices (they are for the run summary)
            self.seen_indices = []
        if self.loader.batch_sampler is None:  # iterable-style dataset: no index-level skipping possible
            for batch in itertools.islice(iter(self.loader), skip, len(self)):
                self._handed_out += 1
                yield batch
            return
        index_batches = list(self._batches_of_indices(skip))
        remaining = _rebuild(self.loader, index_batches)
        for indices, batch in zip(index_batches, remaining):
            self._handed_out += 1
            self.seen_indices.extend(int(i) for i in indices)
            yield batch


def _rebuild(loader: DataLoader, index_batches: list[list[int]]) -> DataLoader:
    """The same loader (workers, collate, pinning) over a fixed list of index batches."""
    options: dict[str, Any] = {
        "num_workers": loader.num_workers, "collate_fn": loader.collate_fn, "pin_memory": loader.pin_memory,
        "worker_init_fn": loader.worker_init_fn, "persistent_workers": False, "timeout": loader.timeout,
    }
    if loader.num_workers > 0:
        options["prefetch_factor"] = loader.prefetch_factor
        options["multiprocessing_context"] = loader.multiprocessing_context
    if loader.generator is not None:
        options["generator"] = loader.generator
    return DataLoader(loader.dataset, batch_sampler=index_batches, **options)
