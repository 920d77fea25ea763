"""Storage: migrations, SQLite pragmas and permissions, the audit trail, optimistic locking."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import (
    HEAD_REVISION,
    KNOWN_REVISIONS,
    MIGRATIONS_DIR,
    SchemaTooNew,
    current_revision,
    ensure_schema,
    needs_upgrade,
)
from qa_tui.db.models import AuditEvent, Team


def test_known_revisions_match_alembic_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [HEAD_REVISION]
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert tuple(chain) == KNOWN_REVISIONS


def test_migrated_database_is_at_head(db: Database) -> None:
    assert current_revision(db.engine) == HEAD_REVISION
    assert not needs_upgrade(db.engine)


def test_empty_sqlite_migrates_on_start_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "fresh" / "qa.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    assert ensure_schema(engine) is True
    assert ensure_schema(engine) is False
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for f in path.parent.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    engine.dispose()


def test_sqlite_pragmas_on_every_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}", pool_size=3)
    conns = [engine.connect() for _ in range(3)]
    for conn in conns:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    for conn in conns:
        conn.close()
    engine.dispose()


def test_refuses_database_from_newer_version(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(SchemaTooNew, match="newer version of qa-tui"):
        ensure_schema(db.engine)


def test_every_write_leaves_an_audit_event_in_the_same_transaction(db: Database) -> None:
    with db.session() as s:
        team = Team(code="T1", name="Assessment 1")
        s.add(team)
    with db.session() as s:
        t = s.scalar(select(Team).where(Team.code == "T1"))
        t.name = "Assessment One"
    with db.session() as s:
        s.delete(s.scalar(select(Team).where(Team.code == "T1")))
    with db.reader() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.table_name == "team").order_by(AuditEvent.at)).all()
    assert [e.action for e in events] == ["insert", "update", "delete"]
    assert all(e.actor == "tester" for e in events)
    assert events[1].old == {"name": "Assessment 1"} and events[1].new == {"name": "Assessment One"}
    assert events[2].old["code"] == "T1"

    with pytest.raises(RuntimeError):
        with db.session() as s:
            s.add(Team(code="T2", name="Rolled back"))
            s.flush()
            raise RuntimeError("boom")
    with db.reader() as s:
        assert s.scalar(select(Team).where(Team.code == "T2")) is None
        assert not s.scalars(select(AuditEvent).where(AuditEvent.new["code"].as_string() == "T2")).all()


def test_stale_update_is_refused(db: Database) -> None:
    with db.session() as s:
        s.add(Team(code="T1", name="A"))
    with db.reader() as s:
        mine = s.scalar(select(Team).where(Team.code == "T1"))
    with db.session() as s:
        s.scalar(select(Team).where(Team.code == "T1")).name = "changed by someone else"
    with pytest.raises(StaleDataError):
        with db.session() as s:
            stale = s.merge(mine, load=False)
            stale.name = "my edit"
    with db.reader() as s:
        assert s.scalar(select(Team).where(Team.code == "T1")).name == "changed by someone else"


def test_concurrent_read_then_write_units_of_work_do_not_fail_on_sqlite(db: Database) -> None:
    """Each write session takes the lock up front, so interleaved writers wait instead of failing."""
    import threading

    with db.session() as s:
        s.add(Team(code="T0", name="counter 0"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def bump(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                with db.session() as s:
                    s.scalar(select(Team).where(Team.code == "T0"))  # read first, then write
                    s.add(Team(code=f"W{n}-{i}", name="writer"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.reader() as s:
        assert len(s.scalars(select(Team).where(Team.name == "writer")).all()) == 40
