"""Errors whose message is fit to show a user: what went wrong and where."""

from __future__ import annotations


class QAError(Exception):
    """Base for every error a user may see. The message says what and where."""


class ValidationError(QAError):
    """Bad input for a named field; nothing was written."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class NotFound(QAError):
    """A record named by the user does not exist."""


class NotAllowed(QAError):
    """The rules forbid this (for example moderating an audit you took part in)."""


class ChangedElsewhere(QAError):
    """Someone else saved this record since it was loaded."""

    def __init__(self, what: str = "This record") -> None:
        super().__init__(f"{what} was changed by someone else since you opened it. Reload to see their changes.")


class DatabaseUnavailable(QAError):
    """The database cannot be opened or reached."""
