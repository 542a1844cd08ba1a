"""The one exception type users see: a message and what to do about it, printed as one line."""

from __future__ import annotations


class UserError(Exception):
    """A failure the user can fix. The CLI prints `error: <message> (<hint>)` and exits non-zero."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def line(self) -> str:
        return f"error: {self.message}" + (f" ({self.hint})" if self.hint else "")
