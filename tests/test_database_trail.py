"""PostgreSQL: a raw SQL change to any audited table, made by a person's own login (granted
qa_tui_app), still writes a trail event naming that login, one test per table. The tables are
filled once by the demo builder; each change is rolled back after it is checked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from qa_tui.db.base import Base, Record
from qa_tui.db.engine import Database, make_engine
from qa_tui.db.migrate import upgrade
from qa_tui.db.models import (
    AgencyFinding,
    Audit,
    CpPlan,
    GoodPractice,
    Person,
    RecordSeen,
    SupportPlan,
    SupportStep,
    Theme,
    ThemeCase,
    WorkerResponse,
)
from qa_tui.db.trail import DATABASE_TRAILED
from qa_tui.demo import build_demo
from tests.conftest import PG_ADMIN_URL
from tests.test_database_guards import quoted

# A raw change per table (an UPDATE's SET, or DELETE for a table whose every column is a key).
CHANGES = {
    "action": "title = title || ' (raw)'",
    "action_change": "reason = coalesce(reason, '') || ' (raw)'",
    "agency_finding": "learning = coalesce(learning, '') || ' (raw)'",
    "audit": "strengths = coalesce(strengths, '') || ' (raw)'",
    "audit_grade": "comment = coalesce(comment, '') || ' (raw)'",
    "audit_participant": "DELETE",
    "audit_template": "name = name || ' (raw)'",
    "case_draw": "rules = '{\"raw\": true}'::json",
    "case_file": "opened_on = opened_on - 1",
    "cp_plan": "ended_on = coalesce(ended_on, DATE '2026-01-01') + 1",
    "draw_pick": "reason = coalesce(reason, '') || ' (raw)'",
    "draw_pool": "empty_reason = coalesce(empty_reason, '') || ' (raw)'",
    "escalation": "note = coalesce(note, '') || ' (raw)'",
    "feedback": "received_on = received_on - 1",
    "follow_up": "summary = summary || ' (raw)'",
    "good_practice": "why = coalesce(why, '') || ' (raw)'",
    "moderation": "comment = coalesce(comment, '') || ' (raw)'",
    "observation": "went_well = coalesce(went_well, '') || ' (raw)'",
    "person": "name = name || ' (raw)'",
    "record_seen": "seen_on = seen_on - 1",
    "role_permission": "DELETE",
    "service": "name = name || ' (raw)'",
    "supervision": "notes = coalesce(notes, '') || ' (raw)'",
    "support_plan": "aim = aim || ' (raw)'",
    "support_step": "step = step || ' (raw)'",
    "team": "name = name || ' (raw)'",
    "theme": "description = coalesce(description, '') || ' (raw)'",
    "theme_case": "added_by_rule = NOT added_by_rule",
    "worker_response": "comment = coalesce(comment, '') || ' (raw)'",
}
ADMIN_ONLY = {"role_permission"}  # the app's role may only read it: an administrator's login changes it


def test_every_record_people_edit_is_trailed_by_the_database() -> None:
    records = {m.class_.__tablename__ for m in Base.registry.mappers if issubclass(m.class_, Record)}
    assert records == DATABASE_TRAILED == CHANGES.keys(), "a new table needs a trail trigger (a migration)"


@pytest.fixture(scope="module")
def council(pg_url: str) -> Iterator[tuple[str, str, str]]:
    """A demo council on its own PostgreSQL database (beside the run's `pg_url`, which says whether
    PostgreSQL is there), and two logins: (url, app login, admin login)."""
    suffix = uuid.uuid4().hex[:8]
    name, app, admin = f"qa_tui_trail_{suffix}", f"raw.app.{suffix}", f"raw.admin.{suffix}"
    owner = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database.open(url, actor="set-up")
    build_demo(db, today=date(2026, 11, 24), cases=300, seed=7)
    _fill_what_the_demo_leaves_empty(db)
    db.dispose()
    with owner.connect() as conn:
        for role in (app, admin):
            conn.execute(text(f"CREATE ROLE {quoted(role)} LOGIN"))
            conn.execute(text(f"GRANT qa_tui_app TO {quoted(role)}"))
        conn.execute(text(f"GRANT qa_tui_admin TO {quoted(admin)}"))
    try:
        yield url, app, admin
    finally:
        with owner.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            for role in (app, admin):
                conn.execute(text(f"DROP ROLE IF EXISTS {quoted(role)}"))
        owner.dispose()


def _fill_what_the_demo_leaves_empty(db: Database) -> None:
    """One row in each audited table the demo builder does not fill."""
    today = date(2026, 11, 24)
    with db.session() as s:
        audit = s.scalars(select(Audit).where(Audit.worker_id.is_not(None)).order_by(Audit.id)).first()
        worker = s.get(Person, audit.worker_id)
        manager = worker.manager_id or audit.auditor_id
        plan = SupportPlan(worker_id=worker.id, manager_id=manager, aim="Confidence in court", started_on=today)
        theme = Theme(name="Neglect", template_key="live", created_on=today)
        s.add_all([plan, theme])
        s.flush()
        s.add_all([
            AgencyFinding(audit_id=audit.id, agency="Health", finding="Late referral"),
            CpPlan(case_id=audit.case_id, started_on=date(2026, 1, 5)),
            GoodPractice(source_kind="audit", source_id=audit.id, worker_id=worker.id, why="Clear plan",
                         marked_on=today),
            RecordSeen(source_kind="audit", source_id=audit.id, person_id=worker.id, seen_on=today),
            SupportStep(plan_id=plan.id, step="Shadow a hearing", due_on=today),
            ThemeCase(theme_id=theme.id, case_id=audit.case_id),
            WorkerResponse(source_kind="audit", source_id=audit.id, worker_id=worker.id, stance="agree",
                           responded_on=today),
        ])


def _change(url: str, login: str, table: str) -> tuple[int, str]:
    """Change one row of `table` by raw SQL as `login`, count the trail events it wrote (naming the
    login), then roll it all back. Returns (events, the row's id)."""
    engine = create_engine(make_url(url).set(username=login))
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            row_id = conn.execute(text(f"SELECT id::text FROM {table} ORDER BY id LIMIT 1")).scalar()
            assert row_id is not None, f"the demo leaves {table} empty"
            how = CHANGES[table]
            sql = (f"DELETE FROM {table} WHERE id = :id" if how == "DELETE"
                   else f"UPDATE {table} SET {how} WHERE id = :id")
            assert conn.execute(text(sql), {"id": row_id}).rowcount == 1
            events = conn.execute(text(
                "SELECT count(*) FROM audit_event WHERE table_name = :t AND record_id = :id AND actor = :login "
                "AND action IN ('update', 'delete')"), {"t": table, "id": row_id, "login": login}).scalar()
            transaction.rollback()
            return events, row_id
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", sorted(CHANGES))
def test_a_raw_change_by_a_persons_login_writes_a_trail_event(council: tuple[str, str, str], table: str) -> None:
    url, app, admin = council
    if table in ADMIN_ONLY:
        with pytest.raises(DBAPIError, match="permission denied"):
            _change(url, app, table)
        login = admin
    else:
        login = app
    events, row_id = _change(url, login, table)
    assert events == 1, f"a raw change to {table} {row_id} wrote {events} trail events"
