"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (the shared database).

SQLite: the file is pre-created 0600 inside a 0700 directory (its WAL and SHM files inherit the
mode), and every connection sets busy_timeout before WAL, synchronous=FULL and foreign keys on.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from qa_tui.db import trail
from qa_tui.errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "qa_tui_writes"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def prepare_sqlite_file(path: Path) -> None:
    """Create the directory 0700 and the file 0600 before SQLite touches them."""
    path = path.expanduser()
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (pysqlite's legacy implicit BEGIN is turned off below).
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(conn: Any) -> None:
    # A unit of work that will write takes the write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads and then writes fails at once with "database is locked" if another
    # writer committed in between, whatever the busy timeout.
    mode = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with the SQLite file prepared and pragmas set on every connection."""
    path = sqlite_path(url)
    if path is not None:
        try:
            prepare_sqlite_file(path)
        except OSError as exc:
            raise DatabaseUnavailable(f"Cannot create the database file {path}: {exc.strerror}.") from None
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = create_engine(url, connect_args={"isolation_level": None}, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    else:
        if parsed.drivername == "postgresql":
            url = str(parsed.set(drivername="postgresql+psycopg"))
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, connect_args={"connect_timeout": 5}, **kwargs)
    return engine


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and the status bar."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass
class Database:
    """The app's one engine and its session factory, plus who is acting."""

    engine: Engine
    actor: str
    factory: sessionmaker[Session]

    @classmethod
    def open(cls, url: str, actor: str) -> Database:
        trail.install(Session)
        engine = make_engine(url)
        return cls(engine, actor, sessionmaker(engine, expire_on_commit=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any error."""
        with self.factory.begin() as session:
            session.info[trail.ACTOR_KEY] = self.actor
            if self.is_sqlite:
                session.connection(execution_options={WRITE_OPTION: True})
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A unit of work that writes nothing; closing it ends the transaction without a commit,
        and loaded objects stay readable (detached, not expired)."""
        with self.factory() as session:
            session.info[trail.ACTOR_KEY] = self.actor
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
