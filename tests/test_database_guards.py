"""What the database itself enforces. On PostgreSQL, connected as people's own non-superuser
logins (granted qa_tui_app, one also qa_tui_admin): the forged trail INSERT, the raw UPDATE of an
audited table, and the self-promotion by raw SQL, the People screen's service and `import people`.
On SQLite: the hash chain, and `qa-tui db verify` finding the first broken link."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from qa_tui import cli
from qa_tui.config import load_config, parse_config
from qa_tui.context import AppContext, open_context
from qa_tui.db.chain import verify_chain
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, Person
from qa_tui.errors import NotAllowed
from qa_tui.services.audits.templates import ensure_template
from qa_tui.services.people.admin import PersonInput, save_person
from tests.conftest import PG_ADMIN_URL, TODAY
from tests.permissions_seed import Council, seed_council


def quoted(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


@dataclass
class Logins:
    council: Council
    tm: str  # Terry Manager's login: qa_tui_app only
    admin: str  # Pip Improvement's login: qa_tui_app and qa_tui_admin
    url: str  # the database, as the superuser that set it up

    def url_as(self, login: str) -> str:
        return make_url(self.url).set(username=login).render_as_string(hide_password=False)

    def context(self, login: str) -> AppContext:
        return open_context(replace(load_config(db_override=self.url_as(login)), user_staff_id="H001"), today=TODAY)


@pytest.fixture
def logins(db_url: str, db: Database) -> Iterator[Logins]:
    if db.is_sqlite:
        pytest.skip("database logins and grants are PostgreSQL's")
    suffix = uuid.uuid4().hex[:8]
    tm, admin = f"terry.manager.{suffix}", f"pip.admin.{suffix}"
    owner = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        for role in (tm, admin):
            conn.execute(text(f"CREATE ROLE {quoted(role)} LOGIN"))
            conn.execute(text(f"GRANT qa_tui_app TO {quoted(role)}"))
        conn.execute(text(f"GRANT qa_tui_admin TO {quoted(admin)}"))
    council = seed_council(db)
    with db.session() as s:
        s.get(Person, council.tm).login = tm
        s.get(Person, council.pi).login = admin
    try:
        yield Logins(council, tm, admin, db_url)
    finally:
        with owner.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(:r)"),
                         {"r": [tm, admin]})
            for role in (tm, admin):
                conn.execute(text(f"DROP ROLE IF EXISTS {quoted(role)}"))
        owner.dispose()


def _raw(logins: Logins, login: str, sql: str, **params: object) -> None:
    engine = create_engine(logins.url_as(login))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def _events(db: Database, **where: object) -> list[AuditEvent]:
    with db.reader() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.at)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(s.scalars(stmt))


def test_the_login_is_the_person_and_the_configs_staff_id_is_ignored(logins: Logins) -> None:
    ctx = logins.context(logins.tm)  # the config names the head of service
    try:
        assert (ctx.login, ctx.person_name) == (logins.tm, "Terry Manager")
    finally:
        ctx.db.dispose()


def test_a_forged_trail_event_takes_the_real_login_and_the_servers_time(logins: Logins, db: Database) -> None:
    _raw(logins, logins.tm, "INSERT INTO audit_event (id, at, actor, action, table_name, record_id, detail) "
                            "VALUES (:id, '2020-01-01', 'harper.head', 'refused', 'audit', NULL, 'forged')",
         id=uuid.uuid4())
    [forged] = _events(db, detail="forged")
    assert (forged.actor, forged.person_staff_id, forged.person_name) == (logins.tm, "M001", "Terry Manager")
    assert forged.at.date() >= date(2026, 1, 1)
    with pytest.raises(DBAPIError, match="written by the database itself"):
        _raw(logins, logins.tm, "INSERT INTO audit_event (id, at, actor, action, table_name, record_id, detail) "
                                "VALUES (:id, now(), 'x', 'update', 'moderation', NULL, '')", id=uuid.uuid4())
    with pytest.raises(DBAPIError, match="append-only|permission denied"):
        _raw(logins, logins.tm, "UPDATE audit_event SET actor = 'harper.head' WHERE detail = 'forged'")


def test_a_raw_update_of_an_audited_table_still_writes_a_trail_event(logins: Logins, db: Database) -> None:
    council = logins.council
    with db.session() as s:
        template = ensure_template(s, parse_config({}).template("live"))
        audit = Audit(kind="live", template_id=template.id, case_id=council.case, worker_id=council.sw,
                      auditor_id=council.tm, team_id=council.team, audit_date=TODAY, overall_grade=3)
        s.add(audit)
    _raw(logins, logins.tm, "UPDATE audit SET overall_grade = 0 WHERE id = :id", id=audit.id)
    [change] = _events(db, table_name="audit", action="update", record_id=str(audit.id))
    assert (change.old, change.new) == ({"overall_grade": 3}, {"overall_grade": 0})
    assert (change.actor, change.person_staff_id) == (logins.tm, "M001")


def test_nobody_promotes_themselves_by_raw_sql_the_people_service_or_import(logins: Logins, db: Database,
                                                                            tmp_path: Path) -> None:
    council = logins.council
    for sql in ("UPDATE person SET role = 'AD' WHERE login = :me",
                "UPDATE person SET login = :me WHERE staff_id = 'H001'",
                "UPDATE person SET login = :me || '-old' WHERE login = :me",
                "UPDATE person SET team_id = (SELECT id FROM team WHERE code = 'T2') WHERE login = :me"):
        with pytest.raises(DBAPIError, match="only an administrator"):
            _raw(logins, logins.tm, sql, me=logins.tm)
    ctx = logins.context(logins.tm)
    try:
        with ctx.db.reader() as s:
            me = s.get(Person, council.tm)
        form = PersonInput(staff_id="M001", name=me.name, role="AD", team_id=me.team_id, manager_id=me.manager_id,
                           asye_start="", active_from="", login=logins.tm)
        with pytest.raises(NotAllowed, match="only an administrator"), ctx.db.session() as s:
            save_person(s, form, TODAY, person_id=council.tm)
    finally:
        ctx.db.dispose()
    staff = tmp_path / "staff.csv"
    staff.write_text(f"staff_id,name,role,team_code,login\nH001,Harper Head,HOS,,{logins.tm}\n"
                     "M001,Terry Manager,TM,T1,\n")
    assert cli.main(["--db", logins.url_as(logins.tm), "import", "people", str(staff)]) != 0
    with db.reader() as s:
        assert (s.get(Person, council.tm).role, s.get(Person, council.tm).login) == ("TM", logins.tm)
        assert s.get(Person, council.hos).login is None
    # An administrator may: the change is trailed with their login and name.
    _raw(logins, logins.admin, "UPDATE person SET role = 'SM' WHERE login = :me", me=logins.tm)
    [promotion] = [e for e in _events(db, table_name="person", action="update") if e.new == {"role": "SM"}]
    assert (promotion.actor, promotion.person_name) == (logins.admin, "Pip Improvement")


# --- SQLite: the chain -------------------------------------------------------------------------


def test_the_sqlite_trail_is_chained_and_verify_finds_the_first_broken_link(db: Database, db_url: str,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    if not db.is_sqlite:
        pytest.skip("the hash chain is SQLite's; PostgreSQL's grants keep its trail")
    seed_council(db)
    with db.engine.connect() as conn:
        report = verify_chain(conn)
    assert report.ok and report.events == report.sealed > 5
    assert cli.main(["--db", db_url, "db", "verify"]) == 0
    assert "every link intact" in capsys.readouterr().out
    with db.engine.begin() as conn:  # someone with the file: drop the guard, change an event, put it back
        conn.exec_driver_sql("DROP TRIGGER audit_event_append_only_update")
        third = conn.execute(text("SELECT id FROM audit_event ORDER BY rowid LIMIT 1 OFFSET 2")).scalar()
        conn.execute(text("UPDATE audit_event SET actor = 'someone else' WHERE id = :id"), {"id": third})
    assert cli.main(["--db", db_url, "db", "verify"]) == 1
    out = capsys.readouterr().out
    assert "event 3 of" in out and "the link is broken" in out and "2 events before it are intact" in out
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'tester' WHERE id = :id"), {"id": third})
    with db.engine.connect() as conn:
        assert "append-only have been dropped" in verify_chain(conn).problem
    with db.engine.begin() as conn:  # values emptied with no retention purge on record
        conn.execute(text("UPDATE audit_event SET old = NULL, new = NULL WHERE id = :id"), {"id": third})
    with db.engine.connect() as conn:
        assert "emptied, and no retention purge" in verify_chain(conn).problem
