"""The one error a graph recipe or grid mistake raises, so command lines can print it without a traceback."""

from __future__ import annotations

from anemoic.plan.errors import UserError


class GraphError(UserError, ValueError):
    """A graph recipe that cannot be built (bad parameter, empty node set, unusable grid)."""
