"""The one error a graph recipe or grid mistake raises, so command lines can print it without a traceback."""

from __future__ import annotations


class GraphError(ValueError):
    """A graph recipe that cannot be built (bad parameter, empty node set, unusable grid)."""
