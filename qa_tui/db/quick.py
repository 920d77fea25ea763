"""A read-only connection straight through the database driver, for the figures the app shows
before SQLAlchemy and the models have loaded: sqlite3 (the standard library) or psycopg. It
never creates, migrates or writes anything; anything it cannot open it leaves to the full path
(`qa_tui.db.engine`), which explains the problem to the user."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

QUICK_CONNECT_SECONDS = 2  # the full path tries again, and says why, if this gives up
_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class QuickReader:
    """One read-only connection: `rows(sql, params)` runs a statement written with `:name`
    parameters on either database."""

    dialect: str  # "sqlite" or "postgresql"
    connection: Any

    def rows(self, sql: str, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        if self.dialect == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute(_NAMED.sub(r"%(\1)s", sql), dict(params))
                return cursor.fetchall()
        return self.connection.execute(sql, dict(params)).fetchall()


def quick_dialect(url: str) -> str | None:
    """The dialect the quick path can open `url` with, or None (encrypted SQLite, an in-memory
    database, another driver): those wait for the full path."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in ("sqlite", "sqlite+pysqlite") and _sqlite_path(url) is not None:
        return "sqlite"
    if scheme in ("postgresql", "postgresql+psycopg"):
        return "postgresql"
    return None


@contextmanager
def quick_reader(url: str, *, role: str = "") -> Iterator[QuickReader]:
    """A read-only connection to `url` (an existing SQLite file, or PostgreSQL as the URL's login,
    acting as `role` when given, as `qa_tui.db.roles.act_as` does). Raises whatever the driver
    raises, or ValueError for a URL the quick path does not open."""
    dialect = quick_dialect(url)
    if dialect == "sqlite":
        connection = _open_sqlite(_sqlite_path(url))  # type: ignore[arg-type]
    elif dialect == "postgresql":
        connection = _open_postgresql(url, role)
    else:
        raise ValueError("the quick path does not open this database")
    try:
        yield QuickReader(dialect, connection)
    finally:
        connection.close()


def _sqlite_path(url: str) -> Path | None:
    rest = url.split("://", 1)[1]
    if not rest.startswith("/") or "?" in rest or rest in ("/", "/:memory:"):
        return None
    return Path(unquote(rest[1:]))


def _open_sqlite(path: Path) -> Any:
    import sqlite3

    # mode=rw: a file that is not there is an error here, never a new empty database.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=5,
                                 check_same_thread=False)
    connection.execute("PRAGMA query_only = ON")
    return connection


def _open_postgresql(url: str, role: str) -> Any:
    import psycopg

    conninfo = "postgresql://" + url.split("://", 1)[1]
    # Read-only from the start (a connection option, so no extra round trip).
    connection = psycopg.connect(conninfo, connect_timeout=QUICK_CONNECT_SECONDS, autocommit=True,
                                 options="-c default_transaction_read_only=on")
    if role:
        from psycopg import sql

        try:
            connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        except Exception:
            connection.close()
            raise
    return connection
