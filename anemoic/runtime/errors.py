"""The one exception type a user sees from the runtime: a message and an exit code, never a traceback."""

from __future__ import annotations

from anemoic.plan.errors import UserError


class RuntimeUserError(UserError):
    """A mistake the user can fix (bad checkpoint, incompatible plan, missing file).

    The CLI prints ``str(error)`` and exits with ``exit_code``; anything else that
    escapes is a bug in anemoic and keeps its traceback.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
