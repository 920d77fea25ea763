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


class NeedsEscalationOwner(ValidationError):
    """An Inadequate grade (or a child at risk now) refused until the audit names who it is
    escalated to; `field` names the grade. Nothing was written."""


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


class UnsupportedDatabase(DatabaseUnavailable):
    """A database URL qa-tui cannot use (MySQL, SQL Server, `postgres://`...)."""


class SchemaTooNew(DatabaseUnavailable):
    """The database was migrated by a newer qa-tui than this one."""


class NoDatabaseFolder(DatabaseUnavailable):
    """A SQLite file named for an existing database, in a folder that does not exist."""

    def __init__(self, path: str, folder: str) -> None:
        self.path = path
        self.folder = folder
        super().__init__(f"There is no database at {path}: the folder {folder} does not exist. Check the "
                         "path, or create a new database there with `qa-tui --db URL db upgrade`.")


class PasswordNeeded(DatabaseUnavailable):
    """A PostgreSQL login that needs a password none was given for, or whose password was refused.
    The message is the command line's advice; the app asks for the password instead."""

    def __init__(self, login: str, where: str, *, refused: bool) -> None:
        self.login = login
        self.where = where
        self.refused = refused
        if refused:
            message = (f"The password for the PostgreSQL login {login} on {where} was refused: check the one in "
                       "~/.pgpass (a line host:port:database:login:password) or in PGPASSWORD.")
        else:
            message = (f"The PostgreSQL login {login} on {where} needs a password, and qa-tui does not ask for one "
                       "on the command line nor store one: put it in ~/.pgpass (a line "
                       "host:port:database:login:password, mode 0600), or set PGPASSWORD for this shell.")
        super().__init__(message)
