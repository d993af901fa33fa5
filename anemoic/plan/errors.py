"""User errors: the base every layer's "you can fix this" error derives from, and the plan's own.

A ``UserError``'s message is a complete paragraph for a user, so command lines print ``str(error)``
and exit; they never show a traceback.  Anything else that escapes is a bug in anemoic.  Each layer
raises its own subclass (``PlanError`` here, ``StoreError`` in datasets, ``GraphError`` in graphs,
``RuntimeUserError`` in the runtime), so a caller can catch one layer's or all of them.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix, with a message written for them."""


class PlanError(UserError):
    """A plan file or plan object that cannot be used (unreadable, wrong schema or hash)."""


class PlanNote(UserWarning):
    """Something the reader of a plan did that the user should know (an older schema read as the current one)."""
