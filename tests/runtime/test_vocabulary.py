"""Every runtime table of kinds is keyed by the vocabulary (``anemoic.plan.kinds``), exactly.

A kind the vocabulary gains and the runtime lacks fails here, naming the table to extend, before a
plan naming it reaches ``exec`` on a cluster; a table keyed by a kind the vocabulary lacks is dead code.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from lightning.pytorch.utilities.enums import GradClipAlgorithmType

from anemoic.datasets import forcings
from anemoic.kernels import BACKENDS
from anemoic.plan import kinds
from anemoic.runtime.data import preprocessing
from anemoic.runtime.inference.predict import AUTOCAST
from anemoic.runtime.losses.functions import ERRORS
from anemoic.runtime.losses.scalers import SCALERS
from anemoic.runtime.methods import METHODS
from anemoic.runtime.models.bounding import BOUNDINGS
from anemoic.runtime.models.layers import MLP_BUILDERS, NORM_BUILDERS
from anemoic.runtime.models.mappers import MAPPER_BUILDERS
from anemoic.runtime.models.noise import NOISE_BUILDERS
from anemoic.runtime.models.processors import PROCESSOR_BUILDERS
from anemoic.runtime.models.sharded import SPLITS_HEADS
from anemoic.runtime.models.encoder_processor_decoder import PARTS
from anemoic.runtime.tasks import TASKS
from anemoic.runtime.training.schedule import OPTIMISERS, SCHEDULES
from anemoic.runtime.training.scores import METRICS

TABLES: dict[str, tuple[tuple[str, ...], Iterable[object]]] = {
    "runtime.tasks.TASKS": (kinds.TASK_KINDS, TASKS),
    "runtime.models.encoder_processor_decoder.PARTS": (kinds.MODEL_PARTS, PARTS),
    "runtime.methods.METHODS": (kinds.METHOD_KINDS, METHODS),
    "runtime.models.noise.NOISE_BUILDERS": (kinds.NOISE_KINDS, NOISE_BUILDERS),
    "runtime.models.processors.PROCESSOR_BUILDERS": (kinds.PROCESSORS, PROCESSOR_BUILDERS),
    "runtime.models.mappers.MAPPER_BUILDERS": (kinds.MAPPERS, MAPPER_BUILDERS),
    "runtime.models.layers.MLP_BUILDERS": (kinds.ACTIVATIONS, MLP_BUILDERS),
    "runtime.models.sharded.SPLITS_HEADS": (kinds.SHARD_STRATEGIES, SPLITS_HEADS),
    "runtime.models.layers.NORM_BUILDERS": (kinds.NORMS, NORM_BUILDERS),
    "runtime.models.bounding.BOUNDINGS": (kinds.BOUNDINGS, BOUNDINGS),
    "runtime.losses.functions.ERRORS": (kinds.LOSSES, ERRORS),
    "runtime.losses.scalers.SCALERS": (kinds.SCALERS, SCALERS),
    "runtime.data.preprocessing.NORMALISERS": (kinds.NORMALISERS, preprocessing.NORMALISERS),
    "runtime.data.preprocessing.REMAPS": (kinds.REMAPS, preprocessing.REMAPS),
    "runtime.data.preprocessing.IMPUTERS": (kinds.IMPUTER_KINDS, preprocessing.IMPUTERS),
    "runtime.training.schedule.SCHEDULES": (kinds.SCHEDULES, SCHEDULES),
    "runtime.training.schedule.OPTIMISERS": (kinds.OPTIMISERS, OPTIMISERS),
    "runtime.training.scores.METRICS": (kinds.METRICS, METRICS),
    "runtime.inference.predict.AUTOCAST": (kinds.PRECISIONS, AUTOCAST),
    "kernels.BACKENDS": (kinds.ATTENTION_BACKENDS, BACKENDS),
    "datasets.forcings.COMPUTED_FORCINGS": (kinds.COMPUTED_FORCINGS, forcings.COMPUTED_FORCINGS),
}


def differences(table: str, vocabulary: tuple[str, ...], keys: Iterable[object]) -> list[str]:
    """What to fix so that ``table``'s keys are the vocabulary's kinds, one sentence per side."""
    lacking = sorted(set(vocabulary) - set(keys))
    unknown = sorted(str(k) for k in set(keys) - set(vocabulary))
    out = [f"{table} lacks {', '.join(lacking)}, which anemoic.plan.kinds declares: add them"] if lacking else []
    return out + ([f"{table} has {', '.join(unknown)}, which anemoic.plan.kinds does not declare"] if unknown else [])


@pytest.mark.parametrize("table", TABLES)
def test_the_table_holds_exactly_the_vocabulary(table: str) -> None:
    assert differences(table, *TABLES[table]) == []


def test_a_kind_on_either_side_only_is_named() -> None:
    assert differences("ERRORS", ("mse", "msle"), {"mse": 0, "mape": 0}) == [
        "ERRORS lacks msle, which anemoic.plan.kinds declares: add them",
        "ERRORS has mape, which anemoic.plan.kinds does not declare",
    ]


def test_normalisers_and_imputers_read_statistics_the_preprocessor_takes_from_the_store() -> None:
    read = {s for normalisation in preprocessing.NORMALISERS.values() for s in normalisation.statistics}
    assert read | set(kinds.IMPUTER_STATISTICS) <= set(preprocessing.STORE_STATISTICS)


def test_every_clip_algorithm_is_one_lightning_knows() -> None:
    assert set(kinds.CLIP_ALGORITHMS) <= {algorithm.value for algorithm in GradClipAlgorithmType}
