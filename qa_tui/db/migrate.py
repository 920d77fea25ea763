"""Schema migrations: a cheap start-up check against the known revisions, Alembic only when the
database needs upgrading, a 0600 backup of a SQLite file first, and a refusal of a database that a
newer version of qa-tui has migrated."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from qa_tui.db.engine import WRITE_OPTION, password_needed, sqlite_path
from qa_tui.errors import DatabaseUnavailable, SchemaTooNew

# Oldest first. A test checks this against Alembic's own script directory.
KNOWN_REVISIONS = (
    "0001_initial",
    "0002_security",
    "0005_cin",
    "0006_identity",
    "0007_programme",
    "0008_sync",
    "0009_worker",
    "0010_identity2",
    "0011_impact",
    "0012_perf",
    "0013_event_dates",
    "0014_escalation_answer",
)
HEAD_REVISION = KNOWN_REVISIONS[-1]
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
PG_MIGRATION_LOCK = 0x5141_5455  # "QATU": one migrator at a time on a shared database


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _revision_on(conn)


def _revision_on(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def needs_upgrade(engine: Engine) -> bool:
    """True when the schema is behind; raises SchemaTooNew when it is ahead of this version."""
    revision = current_revision(engine)
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise SchemaTooNew(
            f"This database was migrated by a newer version of qa-tui (schema {revision!r}; this "
            f"version knows up to {HEAD_REVISION!r}). Upgrade qa-tui before opening it."
        )
    return revision != HEAD_REVISION


def backup_sqlite(engine: Engine) -> Path | None:
    """Copy a SQLite database (with its WAL checkpointed) to a 0600 timestamped backup."""
    path = sqlite_path(str(engine.url))
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.{stamp}.bak")
    fd = os.open(backup, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, path.open("rb") as src:
        shutil.copyfileobj(src, out)
    return backup


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Apply migrations up to `revision`, one migrator at a time (an advisory lock on PostgreSQL,
    the write lock on SQLite). Returns False when another process brought the schema to head
    while this one waited for the lock."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})  # SQLite: BEGIN IMMEDIATE
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
            if revision == "head" and _revision_on(conn) == HEAD_REVISION:
                return False
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    return True


def ensure_schema(engine: Engine) -> bool:
    """Bring the schema to head if needed. Returns True when a migration ran."""
    try:
        if not needs_upgrade(engine):
            return False
        if current_revision(engine) is not None:
            backup_sqlite(engine)
        return upgrade(engine)
    except SchemaTooNew:
        raise
    except SQLAlchemyError as exc:
        raise password_needed(exc, engine.url) or DatabaseUnavailable(
            f"Cannot open the database: {exc.__class__.__name__}: "
            f"{str(exc.orig if hasattr(exc, 'orig') else exc).strip()}") from None
