"""Migrations: one linear history; empty → head gives exactly the models' schema on SQLite and
PostgreSQL; data at the first released schema survives the upgrade; SQLite is backed up (0600)
before migrating; a newer schema is refused; concurrent start-ups migrate once."""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, inspect, select, text

from qa_tui import cli
from qa_tui.db.base import Base
from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    MIGRATIONS_DIR,
    current_revision,
    ensure_schema,
    upgrade,
)
from qa_tui.demo import build_demo
from tests.conftest import PG_ADMIN_URL

FIRST_RELEASE = "0001_initial"
SECURITY_TRIGGERS = {
    "sqlite": {"moderation_separation_of_duties_insert", "moderation_separation_of_duties_update",
               "audit_event_append_only_update", "audit_event_append_only_delete"},
    "postgresql": {"moderation_separation_of_duties", "audit_event_append_only"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database that nothing has migrated yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'fresh.sqlite3'}"
        return
    request.getfixturevalue("pg_url")  # PostgreSQL is reachable (or the test fails in CI)
    with fresh_pg_database() as url:
        yield url


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    name = f"qa_tui_mig_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the models, for the tables this database has (a later migration's new
    tables are not there yet at an older revision)."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in Base.metadata.sorted_tables if t.name in present}


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
        return set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())


def test_one_head_and_one_line_of_history() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [HEAD_REVISION] == [KNOWN_REVISIONS[-1]]
    assert KNOWN_REVISIONS[0] == FIRST_RELEASE
    for older, newer in itertools.pairwise(KNOWN_REVISIONS):
        assert script.get_revision(newer).down_revision == older
    files = {p.stem for p in (MIGRATIONS_DIR / "versions").glob("*.py")}
    assert files == set(KNOWN_REVISIONS), "every migration file is a known revision, and only those"


def test_empty_to_head_gives_exactly_the_models_schema(fresh_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(fresh_url)
    try:
        assert ensure_schema(engine) is True
        assert current_revision(engine) == HEAD_REVISION
        assert ensure_schema(engine) is False
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert triggers(engine) >= SECURITY_TRIGGERS[engine.dialect.name]
    finally:
        engine.dispose()


def test_first_released_schema_with_data_upgrades_without_losing_a_row(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        upgrade(engine, FIRST_RELEASE)
        assert current_revision(engine) == FIRST_RELEASE
        db = Database.open(fresh_url, actor="tester")
        try:
            build_demo(db, today=date(2026, 11, 24), cases=150)
        finally:
            db.dispose()
        before = row_counts(engine)
        assert sum(before.values()) > 1000 and before["moderation"] > 0 and before["audit_event"] > 0

        assert ensure_schema(engine) is True
        assert current_revision(engine) == HEAD_REVISION
        after = row_counts(engine)
        trail = "audit_event"  # a migration that fills a column is itself trailed on PostgreSQL (0013)
        assert {name: after[name] for name in before if name != trail} == {
            name: count for name, count in before.items() if name != trail}
        assert after[trail] >= before[trail]
        seeded = {"role_permission"}  # who holds each role-level permission: the defaults (0010_identity2)
        assert all(after[name] == 0 for name in after.keys() - before.keys() - seeded)  # the new tables
        assert after["role_permission"] > 0
    finally:
        engine.dispose()


def test_sqlite_is_backed_up_privately_before_migrating(tmp_path: Path) -> None:
    path = tmp_path / "data" / "qa.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, FIRST_RELEASE)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO service (id, code, name, created_at, updated_at, updated_by, version) "
                          "VALUES (:id, 'S1', 'Service', '2026-01-01', '2026-01-01', 't', 1)"),
                     {"id": uuid.uuid4().hex})
    assert not list(path.parent.glob("*.bak"))

    assert ensure_schema(engine) is True
    engine.dispose()
    backups = list(path.parent.glob("qa.sqlite3.*.bak"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(backups[0]) as copy:  # the copy is whole and from before the migration
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (FIRST_RELEASE,)
        assert copy.execute("SELECT code FROM service").fetchall() == [("S1",)]


def test_a_new_empty_file_is_not_backed_up(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'd' / 'qa.sqlite3'}")
    assert ensure_schema(engine) is True
    engine.dispose()
    assert not list((tmp_path / "d").glob("*.bak"))


def test_a_newer_schema_is_refused_with_a_clear_message_and_left_alone(
        fresh_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(fresh_url)
    try:
        ensure_schema(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
        before = row_counts(engine)
        assert cli.main(["--db", fresh_url, "db", "upgrade"]) == 2
        err = capsys.readouterr().err
        assert "migrated by a newer version of qa-tui" in err and "Traceback" not in err
        assert current_revision(engine) == "0099_from_the_future"
        after = row_counts(engine)
        trail = "audit_event"  # a migration that fills a column is itself trailed on PostgreSQL (0013)
        assert {name: after[name] for name in before if name != trail} == {
            name: count for name, count in before.items() if name != trail}
        assert after[trail] >= before[trail]
        seeded = {"role_permission"}  # who holds each role-level permission: the defaults (0010_identity2)
        assert all(after[name] == 0 for name in after.keys() - before.keys() - seeded)  # the new tables
        assert after["role_permission"] > 0
    finally:
        engine.dispose()


def test_concurrent_start_ups_migrate_once(fresh_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Several processes starting at once on an empty database: one migrates, the others wait
    for it and find the schema at head. No errors, and each migration step ran once. (SQLite:
    several new files in turn, since a clash there depends on timing.)"""
    caplog.set_level(logging.INFO, logger="alembic.runtime.migration")
    rounds = [fresh_url] if fresh_url.startswith("postgresql") else [
        fresh_url.replace("fresh.sqlite3", f"fresh{n}.sqlite3") for n in range(8)]
    for url in rounds:
        caplog.clear()
        start_all_at_once(url, starters=4)
        steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Running upgrade")]
        assert len(steps) == len(KNOWN_REVISIONS), steps
        engine = make_engine(url)
        try:
            assert current_revision(engine) == HEAD_REVISION
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
        finally:
            engine.dispose()


def start_all_at_once(url: str, starters: int) -> None:
    barrier = threading.Barrier(starters)
    results: list[bool] = []
    errors: list[BaseException] = []

    def start_up() -> None:
        try:
            barrier.wait(timeout=30)
            engine = make_engine(url)
            try:
                results.append(ensure_schema(engine))
            finally:
                engine.dispose()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start_up) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [False] * (starters - 1) + [True]


def test_follow_ups_entered_before_event_dates_are_dated_by_their_finding(fresh_url: str) -> None:
    """0013: a follow-up whose event date was never recorded takes its finding's date (the
    observation, audit, dip sample or feedback), so it can be ticked at the supervision where the
    finding was discussed rather than only at one after the day it was entered."""
    engine = make_engine(fresh_url)
    try:
        upgrade(engine, "0012_perf")
        db = Database.open(fresh_url, actor="tester")
        try:
            build_demo(db, today=date(2026, 11, 24), cases=150)
        finally:
            db.dispose()
        with engine.begin() as conn:
            conn.execute(text("UPDATE follow_up SET event_on = NULL"))
        assert ensure_schema(engine) is True
        sources = ("SELECT f.source_kind, f.event_on, coalesce(a.audit_date, o.observed_on, b.received_on) "
                   "FROM follow_up f LEFT JOIN audit a ON a.id = f.source_id "
                   "LEFT JOIN observation o ON o.id = f.source_id LEFT JOIN feedback b ON b.id = f.source_id")
        with engine.connect() as conn:
            rows = conn.execute(text(sources)).all()
        assert {kind for kind, _, _ in rows} >= {"audit", "dip_sample", "observation", "feedback"}
        assert all(event_on is not None and event_on == found for _, event_on, found in rows)
    finally:
        engine.dispose()
