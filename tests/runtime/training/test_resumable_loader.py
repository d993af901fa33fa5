"""The training loader skips, in the sampler, the batches a killed run already trained on."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

from anemoic.runtime.data.sampling import ShardedWindowSampler
from anemoic.runtime.training.resumable_loader import ResumableLoader


class CountingDataset(TensorDataset):
    def __init__(self, n: int) -> None:
        super().__init__(torch.arange(n))
        self.reads: list[int] = []

    def __getitem__(self, index: int):  # type: ignore[override]
        self.reads.append(index)
        return super().__getitem__(index)


def _loader(dataset: CountingDataset, epoch: int = 0) -> DataLoader:
    sampler = ShardedWindowSampler(len(dataset), seed=3)
    sampler.set_epoch(epoch)
    return DataLoader(dataset, batch_size=2, sampler=sampler)


def test_resume_yields_exactly_the_remaining_batches_without_reading_skipped_ones() -> None:
    full = [b[0].tolist() for b in ResumableLoader(_loader(CountingDataset(10)))]
    first = ResumableLoader(_loader(CountingDataset(10)))
    iterator = iter(first)
    done = [next(iterator)[0].tolist() for _ in range(2)]
    state = first.state_dict()
    assert state == {"batches_done": 2} and done == full[:2]

    dataset = CountingDataset(10)
    resumed = ResumableLoader(_loader(dataset))
    resumed.load_state_dict(state)
    assert len(resumed) == 5  # Lightning still counts the whole epoch
    rest = [b[0].tolist() for b in resumed]
    assert rest == full[2:]
    assert sorted(dataset.reads) == sorted(i for b in full[2:] for i in b)  # skipped samples never read
    assert [b[0].tolist() for b in resumed] == full  # the next epoch starts from the beginning


def test_limit_caps_the_epoch_and_a_finished_epoch_resumes_at_the_start() -> None:
    loader = ResumableLoader(_loader(CountingDataset(10)), limit=3)
    assert len(loader) == 3 and len(list(loader)) == 3
    loader.load_state_dict(loader.state_dict())  # saved after the last batch of the epoch
    first_epoch = list(loader.seen_indices)
    assert len(first_epoch) == 6 and len(list(loader)) == 3
    assert loader.seen_indices == first_epoch  # same sampler epoch, same order; only this epoch is kept
