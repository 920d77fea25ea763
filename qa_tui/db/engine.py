"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (the shared database).

SQLite: the file is pre-created 0600 inside a 0700 directory (its WAL and SHM files inherit the
mode), and every connection sets busy_timeout before WAL, synchronous=FULL and foreign keys on.
A `sqlite+pysqlcipher:///file` URL opens the file encrypted with SQLCipher (optional `sqlcipher3`
package); its key comes from QA_TUI_DB_KEY, the OS keyring or a prompt, never from a URL or file.
"""

from __future__ import annotations

import getpass
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, pool
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from qa_tui.config import database_url_problem, mask_url
from qa_tui.db import chain, trail
from qa_tui.db.roles import act_as
from qa_tui.errors import DatabaseUnavailable, NoDatabaseFolder, PasswordNeeded, UnsupportedDatabase
from qa_tui.db.acting import ACTING_KEY, CONFIG_KEY, Acting

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "qa_tui_writes"
CIPHER_DRIVER = "sqlite+pysqlcipher"
ENV_DATABASE_KEY = "QA_TUI_DB_KEY"
KEYRING_SERVICE = "qa-tui"
# PostgreSQL SQLSTATEs that a fresh attempt at the whole transaction can cure.
TRANSIENT_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock"}
T = TypeVar("T")

# Keys typed at this process's passphrase prompt, by database file; never written anywhere.
_typed_keys: dict[str, str] = {}


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def prepare_sqlite_file(path: Path, *, create_folder: bool = True) -> None:
    """Create the directory 0700 and the file 0600 before SQLite touches them. Without
    `create_folder`, a missing folder is refused (NoDatabaseFolder) rather than made."""
    path = path.expanduser()
    # exist_ok and FileExistsError: another process may be starting up at the same moment.
    if not path.parent.exists():
        if not create_folder:
            raise NoDatabaseFolder(str(path), str(path.parent))
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path.parent, 0o700)
    if not path.exists():
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)


def _sqlite_pragmas(path: Path | None, encrypted: bool) -> Callable[[Any, Any], None]:
    """The connect hook: pragmas on every connection, and a file that cannot be read as a
    database (a wrong key, or a plain/encrypted mix-up) turned into one clear message."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy own transactions (pysqlite's legacy implicit BEGIN is turned off below).
        cursor = dbapi_connection.cursor()
        try:
            if encrypted:
                # SQLCipher logs a failed decryption to stderr, which would print over the screen.
                cursor.execute("PRAGMA cipher_log_level = NONE")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enter_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        except Exception as exc:
            if "file is not a database" not in str(exc):
                raise
            if encrypted:
                raise DatabaseUnavailable(f"Cannot open {path}: wrong key or not an encrypted database.") from None
            raise DatabaseUnavailable(f"Cannot open {path}: it is not a SQLite database, or it is encrypted "
                                      f"(open it with a {CIPHER_DRIVER}:/// URL and its key).") from None
        finally:
            cursor.close()

    return on_connect


def _enter_wal(cursor: Any) -> None:
    """Switch to WAL (a new file switches once; the mode is kept in the file). Two processes
    opening a new file at the same moment can meet here, and SQLite does not wait on the busy
    timeout for this switch, so a locked database is retried until the timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except Exception as exc:
            if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _on_sqlite_begin(conn: Any) -> None:
    # A unit of work that will write takes the write lock up front (BEGIN IMMEDIATE): a deferred
    # transaction that reads and then writes fails at once with "database is locked" if another
    # writer committed in between, whatever the busy timeout.
    mode = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode else "BEGIN")


def database_key(path: Path) -> str | None:
    """The key of an encrypted SQLite file: QA_TUI_DB_KEY, else the OS keyring (service "qa-tui",
    the file's absolute path as the user name) when the `keyring` package is installed, else the
    one typed at this process's prompt (`ask_for_key`)."""
    key = os.environ.get(ENV_DATABASE_KEY)
    if key:
        return key
    where = str(path.expanduser().resolve())
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        pass
    else:
        try:
            key = keyring.get_password(KEYRING_SERVICE, where)
        except KeyringError:
            key = None
        if key:
            return key
    return _typed_keys.get(where)


def ask_for_key(url: str, ask: Callable[[str], str] | None = None) -> None:
    """Before the app takes over the terminal: prompt for the key of an encrypted SQLite URL that
    neither the environment nor the keyring can give. The key stays in this process's memory."""
    path = sqlite_path(url)
    if path is None or make_url(url).drivername != CIPHER_DRIVER or database_key(path):
        return
    if ask is None:
        import getpass
        import sys

        if not sys.stdin.isatty():
            return
        ask = getpass.getpass
    key = ask(f"Key for the encrypted database {path}: ")
    if key:
        _typed_keys[str(path.expanduser().resolve())] = key


def make_engine(url: str, *, create_folder: bool = True, password: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url`, with the SQLite file prepared and pragmas set on every connection.
    A URL qa-tui cannot use is refused with one line naming the forms it can. `password`: a
    PostgreSQL password typed for this session, passed to each connection and kept nowhere else."""
    problem = database_url_problem(url)
    if problem:
        raise UnsupportedDatabase(problem)
    path = sqlite_path(url)
    parsed = make_url(url)
    encrypted = parsed.drivername == CIPHER_DRIVER
    if encrypted:
        parsed = _with_key(parsed, path)
    if path is not None:
        try:
            prepare_sqlite_file(path, create_folder=create_folder)
        except OSError as exc:
            raise DatabaseUnavailable(f"Cannot create the database file {path}: {exc.strerror}.") from None
    if parsed.drivername.startswith("sqlite"):
        connect_args: dict[str, Any] = {"isolation_level": None}
        if encrypted:
            # The SQLCipher dialect defaults to one connection per thread; use the same pool as
            # plain SQLite files, since sessions are opened in worker threads.
            kwargs.setdefault("poolclass", pool.QueuePool)
            connect_args["check_same_thread"] = False
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(path, encrypted))
        event.listen(engine, "begin", _on_sqlite_begin)
    else:
        if parsed.drivername == "postgresql":
            url = str(parsed.set(drivername="postgresql+psycopg"))
        kwargs.setdefault("pool_pre_ping", True)
        connect: dict[str, Any] = {"connect_timeout": 5}
        if password:
            connect["password"] = password
        engine = create_engine(url, connect_args=connect, **kwargs)
    return engine


def _with_key(parsed: URL, path: Path | None) -> URL:
    """The URL with the key from `database_key` added, or a clear refusal."""
    if parsed.password:
        raise DatabaseUnavailable(f"Do not put the key of an encrypted database in its URL: set {ENV_DATABASE_KEY} "
                                  "or store it in the OS keyring instead.")
    if path is None:
        raise DatabaseUnavailable("An encrypted database must be a file: sqlite+pysqlcipher:///path/to/file.")
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        raise DatabaseUnavailable("Encrypted databases need the sqlcipher3 package: "
                                  "pip install sqlcipher3-binary.") from None
    key = database_key(path)
    if not key:
        raise DatabaseUnavailable(
            f"The database {path} is encrypted and no key was given: set {ENV_DATABASE_KEY}, store the key "
            f"in the OS keyring (service {KEYRING_SERVICE!r}, user {str(path.expanduser().resolve())!r}), "
            "or start qa-tui in a terminal to be asked for it.")
    return parsed.set(password=key)


def is_transient(exc: BaseException) -> bool:
    """A failure that retrying the whole transaction can cure (a PostgreSQL serialization
    failure or deadlock)."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TRANSIENT_SQLSTATES


def password_needed(exc: BaseException, url: URL | str) -> PasswordNeeded | None:
    """For a PostgreSQL login refused for want of a password (or with a wrong one): the error that
    says so, naming the login and the database from `url`; None for any other failure."""
    text = str(getattr(exc, "orig", None) or exc)
    if "no password supplied" not in text and "password authentication failed" not in text:
        return None
    parsed = make_url(url)
    where = (parsed.host or "this computer") + (f"/{parsed.database}" if parsed.database else "")
    return PasswordNeeded(parsed.username or getpass.getuser(), where,
                          refused="password authentication failed" in text)


def describe_url(url: str | URL) -> str:
    """The URL with any password hidden (in the user part or the query), for messages, the status
    bar, the sync state and the audit trail."""
    return mask_url(url if isinstance(url, str) else url.render_as_string(hide_password=False))


@dataclass
class Database:
    """The app's one engine and its session factory, plus who is acting: `actor` is the login,
    `acting` the person (set by `qa_tui.context.open_context`; every session carries it)."""

    engine: Engine
    actor: str
    factory: sessionmaker[Session]
    acting: Acting | None = None
    config: Any = None  # the Config whose [permissions] the services apply (qa_tui.services.people.permissions)

    @classmethod
    def open(cls, url: str, actor: str, *, create_folder: bool = True, password: str | None = None,
             role: str = "") -> Database:
        """`role`: act as that PostgreSQL login on every connection (`qa_tui.db.roles.act_as`)."""
        trail.install(Session)
        chain.install()
        engine = make_engine(url, create_folder=create_folder, password=password)
        if role:
            try:
                act_as(engine, role)
            except DatabaseUnavailable:
                engine.dispose()
                raise
        return cls(engine, actor, sessionmaker(engine, expire_on_commit=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commits on success, rolls back on any error."""
        with self.factory.begin() as session:
            self._label(session)
            if self.is_sqlite:
                session.connection(execution_options={WRITE_OPTION: True})
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A unit of work that writes nothing; closing it ends the transaction without a commit,
        and loaded objects stay readable (detached, not expired)."""
        with self.factory() as session:
            self._label(session)
            yield session

    def _label(self, session: Session) -> None:
        session.info[trail.ACTOR_KEY] = self.actor
        if self.acting is not None:
            session.info[ACTING_KEY] = self.acting
        if self.config is not None:
            session.info[CONFIG_KEY] = self.config

    def run_in_transaction(self, fn: Callable[[Session], T], *, attempts: int = 3) -> T:
        """`fn(session)` as one transaction, run again from the start in a fresh session when
        PostgreSQL reports a serialization failure or a deadlock, at most `attempts` times in all.
        `fn` must do nothing outside the database that a second run would repeat."""
        for attempt in range(1, attempts + 1):
            try:
                with self.session() as session:
                    return fn(session)
            except DBAPIError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
        raise ValueError(f"attempts must be at least 1, got {attempts}")

    def dispose(self) -> None:
        if self.is_sqlite:
            optimize_sqlite(self.engine)
        self.engine.dispose()


def optimize_sqlite(engine: Engine) -> None:
    """SQLite's advice for long-lived connections: `PRAGMA optimize` on the way out refreshes the
    query planner's statistics where the data has changed enough to matter (bounded, so quick)."""
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit = 400")
            conn.exec_driver_sql("PRAGMA optimize")
    except Exception:  # noqa: BLE001 - statistics are an optimisation; closing must not fail
        pass


def refresh_planner_statistics(db: Database) -> None:
    """After a bulk load: statistics for the planner (ANALYZE on both databases, sampled on SQLite)."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA analysis_limit = 400")
        conn.exec_driver_sql("ANALYZE")
