"""The compiler and the estimates against the one vocabulary (``anemoic.plan.kinds``).

Every kind a plan can hold must be writable from the language, and every table of the compile-time
estimates must cover it: these fail when the vocabulary gains a kind one side lacks (the runtime's side
is ``tests/runtime/test_vocabulary.py``, the graphs' ``tests/graphs/test_vocabulary.py``).
"""

from __future__ import annotations

from anemoic.compiler import estimates
from anemoic.compiler.builtins import (
    CRPS_ALPHA, LOSS_KINDS, METHOD_KINDS, NODE_WEIGHTS_FOR, NOISE_KINDS, REGISTRY, SCALER_KINDS, SCHEDULE_KINDS,
)
from anemoic.compiler.typecheck import per_variable, run_settings, task, training, unsupported
from anemoic.plan import kinds


def _category(name: str) -> set[str]:
    return {b.name for b in REGISTRY.values() if b.category == name}


def _choices(builtin: str, param: str) -> set[str]:
    found = REGISTRY[builtin].param(param)
    assert found is not None and found.type.startswith("enum:")
    return set(found.type[len("enum:"):].split(","))


def test_components_name_every_kind() -> None:
    assert set(LOSS_KINDS) == _category("loss") and set(LOSS_KINDS.values()) == set(kinds.LOSSES)
    assert set(CRPS_ALPHA) | {"almost_fair_crps"} == {w for w, kind in LOSS_KINDS.items() if kind == "crps"}
    assert set(METHOD_KINDS.values()) == set(kinds.METHOD_KINDS)
    assert set(METHOD_KINDS) | set(unsupported.METHODS) == _category("method")  # each runs or is refused
    assert set(NOISE_KINDS) == _category("noise") and set(NOISE_KINDS.values()) == set(kinds.NOISE_KINDS)
    assert set(SCALER_KINDS) == _category("scaler") and set(SCALER_KINDS.values()) == set(kinds.SCALERS)
    assert set(SCHEDULE_KINDS) == _category("schedule") and set(SCHEDULE_KINDS.values()) == set(kinds.SCHEDULES)
    assert _category("optimiser") == set(kinds.OPTIMISERS)
    assert _category("nodes") | {"dataset"} == set(kinds.NODES_KINDS)
    assert _category("edges") == set(kinds.EDGES_KINDS)


def test_choices_are_the_vocabulary() -> None:
    model = "encoder_processor_decoder"
    assert _choices(model, "processor") == set(kinds.PROCESSORS)
    assert _choices(model, "encoder") == _choices(model, "decoder") == set(kinds.MAPPERS)
    assert _choices(model, "activation") == set(kinds.ACTIVATIONS)
    assert _choices(model, "norm") == set(kinds.NORMS)
    assert _choices(model, "attention_backend") == set(kinds.ATTENTION_BACKENDS)
    assert _choices("encode_process_decode", "node_weights") == set(kinds.NODE_WEIGHTS)
    assert _choices("encode_process_decode", "node_weights_norm") == set(kinds.NODE_WEIGHTS_NORMS)
    assert set(NODE_WEIGHTS_FOR.values()) == set(kinds.NODE_WEIGHTS)
    assert _choices("level_weights", "method") == set(kinds.LEVEL_WEIGHTINGS)


def test_block_words_reach_every_kind() -> None:
    assert set(training.PRECISIONS.values()) == set(kinds.PRECISIONS)
    assert set(task.KINDS.values()) == set(kinds.TASK_KINDS)
    assert not set(task.KINDS) & set(unsupported.TASKS)  # a task word runs or is refused, never both
    assert per_variable.COMPUTED == kinds.COMPUTED_FORCINGS
    assert {s.key: s.path for s in run_settings.PARALLEL_TABLE}["shard"] == "parallel.shard_strategy"


def test_estimates_cover_every_model_kind() -> None:
    assert set(estimates.PROCESSOR_PARAMETERS) == set(kinds.PROCESSORS)
    assert set(estimates.MAPPER_PARAMETERS) == set(kinds.MAPPERS)
    assert set(estimates.NODE_FACTOR) == set(estimates.EDGE_FACTOR) == set(kinds.PROCESSORS)
