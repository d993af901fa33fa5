"""The ``slurm_cluster`` fixture: a real localhost SLURM for the whole session, or a skip saying why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.slurm.cluster import ClusterUnavailable, local_cluster


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[None]:
    try:
        context = local_cluster()
        context.__enter__()
    except ClusterUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield
    finally:
        context.__exit__(None, None, None)
