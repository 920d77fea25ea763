"""Crash safety: a writer process killed with SIGKILL at random moments loses no commit it had
acknowledged, never leaves half a transaction, and leaves a SQLite file that passes
`PRAGMA integrity_check`; every SQLite connection, in every thread, runs with WAL,
synchronous=FULL, foreign keys and a busy timeout. (A form being typed into when the app is
killed is offered back on restart: tests/test_resume_after_kill.py.)"""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text

from qa_tui.db.engine import SQLITE_BUSY_TIMEOUT_MS, Database, sqlite_path
from qa_tui.db.migrate import ensure_schema
from qa_tui.db.models import AuditEvent, Service, Team

ROWS_PER_COMMIT = 20
SQLITE_ROUNDS = 24
SEED = 20261124

# Each transaction adds ROWS_PER_COMMIT teams (each with its trail event) and bumps a counter
# row, then prints an acknowledgement only after the commit has returned.
WRITER = textwrap.dedent("""
    import sys
    from sqlalchemy import select
    from qa_tui.db.engine import Database
    from qa_tui.db.models import Service, Team

    url, round_no, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = Database.open(url, actor="writer")
    with db.reader() as s:  # connected, and the ORM warmed up, before the clock starts
        s.scalar(select(Service).where(Service.code == "COUNTER"))
    print("ready", flush=True)
    n = 0
    while True:
        tx = f"{round_no}.{n}"
        with db.session() as s:
            counter = s.scalar(select(Service).where(Service.code == "COUNTER"))
            counter.name = tx
            s.add_all(Team(code=f"{tx}.{i}", name="x" * 150) for i in range(rows))
        print(f"ack {tx}", flush=True)
        n += 1
""")


def run_and_kill(url: str, round_no: int, delay: float) -> list[str]:
    """Start a writer, SIGKILL it `delay` seconds after it is ready; the transactions it acked."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(round_no), str(ROWS_PER_COMMIT)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == "ready\n", first + proc.stderr.read()  # type: ignore[union-attr]
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        rest, errors = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL and not errors.strip(), errors
    return [line.split()[1] for line in rest.splitlines() if line.startswith("ack ") and len(line.split()) == 2]


def committed_transactions(db: Database) -> dict[str, int]:
    """Transaction id → how many of its teams are stored."""
    with db.reader() as s:
        codes = s.scalars(select(Team.code).where(Team.code != "SEED")).all()
    found: dict[str, int] = {}
    for code in codes:
        tx = code.rsplit(".", 1)[0]
        found[tx] = found.get(tx, 0) + 1
    return found


def test_sigkill_while_writing_loses_no_acknowledged_commit(db: Database, db_url: str) -> None:
    rng = random.Random(SEED)
    # On PostgreSQL the server does its own recovery; the client's death is what is tested.
    rounds = SQLITE_ROUNDS if db.is_sqlite else SQLITE_ROUNDS // 3
    with db.session() as s:
        s.add(Service(code="COUNTER", name="none"))
    acked: list[str] = []
    for round_no in range(rounds):
        acked += run_and_kill(db_url, round_no, rng.uniform(0.0, 0.25))
        if db.is_sqlite:
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalars().all() == ["ok"], f"round {round_no}"
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == [], f"round {round_no}"
        stored = committed_transactions(db)
        missing = [tx for tx in acked if tx not in stored]
        assert not missing, f"round {round_no}: acknowledged but lost: {missing}"
        partial = {tx: n for tx, n in stored.items() if n != ROWS_PER_COMMIT}
        assert not partial, f"round {round_no}: half-written transactions: {partial}"
    assert len(acked) > rounds, "the writers had time to commit"

    with db.reader() as s:
        teams = s.scalar(select(func.count()).select_from(Team))
        events = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.table_name == "team", AuditEvent.action == "insert"))
        counter = s.scalar(select(Service.name).where(Service.code == "COUNTER"))
    assert events == teams, "every stored row has its trail event: they commit together"
    assert counter in committed_transactions(db), "the counter names a transaction that committed"
    if db.is_sqlite:
        path = sqlite_path(db_url)
        assert path is not None
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for file in path.parent.iterdir():  # the database, its WAL and SHM after every crash
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def pragmas(conn: Connection) -> tuple[str, int, int, int]:
    return (conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(), conn.exec_driver_sql("PRAGMA busy_timeout").scalar())


EXPECTED = ("wal", 2, 1, SQLITE_BUSY_TIMEOUT_MS)  # synchronous 2 = FULL


def check_every_connection(db: Database, threads: int = 8) -> None:
    """Sessions opened at once in `threads` threads (so each gets its own pooled connection),
    then a write session in each: every connection has the pragmas."""
    barrier = threading.Barrier(threads)
    seen: list[tuple[int, tuple[str, int, int, int]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with db.reader() as s:
                conn = s.connection()
                barrier.wait(timeout=20)  # everyone holds a connection now
                seen.append((id(conn.connection.dbapi_connection), pragmas(conn)))
            with db.session() as s:
                conn = s.connection()
                seen.append((id(conn.connection.dbapi_connection), pragmas(conn)))
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors
    assert len({conn_id for conn_id, _ in seen}) >= threads
    assert {values for _, values in seen} == {EXPECTED}


def test_every_sqlite_connection_in_every_thread_has_the_pragmas(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'd' / 'qa.sqlite3'}", actor="tester")
    try:
        ensure_schema(db.engine)
        check_every_connection(db)
    finally:
        db.dispose()


def test_every_encrypted_sqlite_connection_has_the_pragmas(tmp_path: Path, sqlcipher: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_TUI_DB_KEY", "correct horse battery staple")
    db = Database.open(f"sqlite+pysqlcipher:///{tmp_path / 'd' / 'qa.sqlite3'}", actor="tester")
    try:
        ensure_schema(db.engine)
        check_every_connection(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA cipher_version")).scalar()
    finally:
        db.dispose()


@pytest.fixture
def sqlcipher() -> None:
    """SQLCipher support is installed; in CI its absence is a failure, elsewhere a skip."""
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("sqlcipher3 is not installed and CI=true (pip install sqlcipher3-binary)")
        pytest.skip("sqlcipher3 not installed (pip install sqlcipher3-binary)")


# --- the database lost mid-session ------------------------------------------------------------


async def test_database_lost_while_typing_keeps_the_text_and_stores_it_when_back(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The live audit is being typed when the database stops answering: the app says so once and
    in the status line, never with a dialog that would take the next keys (typed or a grade); what
    was typed stays in the field, and once the database is back the queue stores it by itself."""
    from contextlib import contextmanager
    from datetime import date

    from sqlalchemy.exc import OperationalError
    from textual.widgets import TextArea

    from qa_tui.db.models import Audit
    from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
    from screens.errors import DatabaseErrorScreen
    from tests.pilot import SIZE, make_app, make_context, screen_text, settle

    build_demo(db, today=date(2026, 11, 24), cases=400)
    ctx = make_context(db.engine.url.render_as_string(hide_password=False), today=date(2026, 12, 3),
                       staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)

    @contextmanager
    def unreachable() -> Iterator[None]:  # what Database.session does once the server has gone
        raise OperationalError("BEGIN", {}, ConnectionRefusedError("connection refused: server closed the connection"))
        yield

    def dialogs() -> int:
        return sum(isinstance(s, DatabaseErrorScreen) for s in app.screen_stack)

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("l", "n", "y", "enter"):  # draw this month's cases and open the first
            await pilot.press(key)
            await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
        await pilot.press("w", *"Saved before")
        await pilot.pause(1.0)
        await settle(pilot)
        field = app.screen.query_one("#af-strengths", TextArea)

        real_session = ctx.db.session
        monkeypatch.setattr(ctx.db, "session", unreachable)
        await pilot.press(*" and typed during the outage")
        await pilot.pause(1.0)
        await settle(pilot)
        # No dialog to take the next keys; a message once, and the status line while it lasts.
        assert dialogs() == 0 and "database out of reach" in screen_text(app)
        assert "sent again by itself" in " ".join(str(n.message) for n in app._notifications)
        assert field.text == "Saved before and typed during the outage"
        await pilot.press("escape", "2")  # done typing, a grade: still no dialog to take the keys
        await pilot.pause(2.5)
        await settle(pilot)
        assert dialogs() == 0 and "Not saved: " in screen_text(app)

        monkeypatch.setattr(ctx.db, "session", real_session)  # the database is back: stored by itself
        for _ in range(40):
            await pilot.pause(0.25)
            if "Saved · version" in screen_text(app):
                break
        assert field.text == "Saved before and typed during the outage"
        with db.reader() as s:
            stored = s.scalar(select(Audit.strengths).where(Audit.audit_date == date(2026, 12, 3)))
        assert stored == "Saved before and typed during the outage", "tried again, and saved what was typed"

        field.focus()
        await pilot.press(*" and after")
        await pilot.pause(1.0)
        await settle(pilot)
    with db.reader() as s:
        stored = s.scalar(select(Audit.strengths).where(Audit.audit_date == date(2026, 12, 3)))
    assert stored == "Saved before and typed during the outage and after"
