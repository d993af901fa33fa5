"""The one error type a plan consumer has to catch.

Every refusal (unreadable file, schema violation, wrong hash, unknown schema
version) is a ``PlanError`` whose message is a complete paragraph for a user,
so command-line tools print ``str(error)`` and exit; they never show a traceback.
"""

from __future__ import annotations


class PlanError(Exception):
    """A plan file or plan object that cannot be used, with a message for the user."""
