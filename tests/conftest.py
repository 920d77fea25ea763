"""Fixtures: every storage and service test runs on a real SQLite file and on a real PostgreSQL
database. PostgreSQL must be reachable when CI=true; elsewhere its tests skip with the reason."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import HEAD_REVISION, upgrade

PG_ADMIN_URL = os.environ.get("QA_TUI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 24)

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config or data directory."""
    monkeypatch.setenv("QA_TUI_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.setenv("QA_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("QA_TUI_DATABASE_URL", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated to head, dropped at the end."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL} and CI=true: {problem}")
        pytest.skip(f"PostgreSQL unreachable ({problem}); set CI=true to make this a failure")
    name = f"qa_tui_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        # A test may have stamped a future schema to prove it is refused: every test starts at head.
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": HEAD_REVISION})
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        data = tmp_path / "db"
        data.mkdir(mode=0o700)
        target = data / "qa.sqlite3"
        shutil.copyfile(template, target)
        os.chmod(target, 0o600)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url, actor="tester")
    yield database
    database.dispose()


@pytest.fixture
def today() -> date:
    return TODAY
