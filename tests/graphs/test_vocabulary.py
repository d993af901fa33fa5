"""Every graph table is keyed by the vocabulary (``anemoic.plan.kinds``): a kind one side gains fails here."""

from __future__ import annotations

import pytest

from anemoic.graphs import attributes, edges, nodes, sizes
from anemoic.plan import kinds

TABLES = {
    "nodes.BUILDERS": (nodes.BUILDERS, kinds.NODES_KINDS),
    "edges.BUILDERS": (edges.BUILDERS, kinds.EDGES_KINDS),
    "edges.MASKS": (dict.fromkeys(edges.MASKS), kinds.EDGE_MASKS),
    "attributes.NODE_WEIGHTS": (attributes.NODE_WEIGHTS, kinds.NODE_WEIGHTS),
    "attributes.NORMS": (attributes.NORMS, kinds.NODE_WEIGHTS_NORMS),
    "attributes.EDGE_ATTRIBUTES": (attributes.EDGE_ATTRIBUTES, kinds.EDGE_ATTRIBUTES),
    "sizes.NODE_COUNTS": (sizes.NODE_COUNTS, kinds.NODES_KINDS),
    "sizes.EDGE_COUNTS": (sizes.EDGE_COUNTS, kinds.EDGES_KINDS),
}


@pytest.mark.parametrize("name", TABLES)
def test_the_table_has_one_entry_per_kind_of_the_vocabulary(name: str) -> None:
    table, vocabulary = TABLES[name]
    assert tuple(table) == vocabulary, f"{name} and anemoic.plan.kinds disagree"
