"""Data protection: separation of duties enforced by the database too, an append-only audit trail
written in the same transaction as every change, private files, optional SQLCipher encryption,
no secret in any message or file, and no column for a child's name or date of birth."""

from __future__ import annotations

import logging
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, null, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from qa_tui import cli
from qa_tui.app import QAApp
from qa_tui.config import load_config
from qa_tui.db.base import Base, utcnow
from qa_tui.db.engine import Database, ask_for_key, describe_url, make_engine
from qa_tui.db.migrate import HEAD_REVISION, ensure_schema
from qa_tui.db.models import AuditEvent, AuditGrade, Case, Moderation, Person, Team
from qa_tui.errors import DatabaseUnavailable, NotAllowed
from qa_tui.services.audits import summaries
from qa_tui.services.audits import moderation
from qa_tui.services.imports.people_cases import import_people
from qa_tui.services.people.retention import purge_closed_cases
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.bundle import write_bundle, write_receipt
from tests.pilot import SIZE, screen_text, settle
from tests.test_audits import CFG, Org, seed_org, start, submitted_audit
from tests.test_crash_safety import sqlcipher  # noqa: F401 - a fixture, used by name
from tests.test_retention import app_login  # noqa: F401 - a fixture, used by name

POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
SENTINEL = "Sentinel-9f3a-NOT-FOR-EYES"


async def settle_after_failure(pilot: Any) -> None:
    """`settle`, for an app whose start-up worker is expected to fail (its error is shown, and
    waiting on it raises until Textual drops the worker)."""
    from textual.worker import WorkerFailed

    for _ in range(5):
        try:
            await settle(pilot)
            return
        except WorkerFailed:
            await pilot.pause(0.05)


def events(db: Database, **where: Any) -> list[AuditEvent]:
    with db.reader() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.at)
        for column, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, column) == value)
        return list(s.scalars(stmt))


# --- 6. separation of duties ----------------------------------------------------------------


def raw_moderation(audit_id: uuid.UUID, moderator_id: uuid.UUID) -> Any:
    return insert(Moderation.__table__).values(
        id=uuid.uuid4(), audit_id=audit_id, moderator_id=moderator_id, outcome="agreed", comment="",
        moderated_on=date(2026, 11, 24), grades={}, created_at=utcnow(), updated_at=utcnow(), updated_by="raw",
        version=1)


def test_the_database_refuses_a_moderation_by_anyone_who_took_part(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.session() as s:  # a senior manager who gave their own grade takes part too
        s.add(AuditGrade(audit_id=dto.id, domain="voice", participant_id=org.senior_id, grade=1, comment=""))
    for who in (org.auditor_id, org.worker_id, org.participant_id, org.senior_id):
        with pytest.raises(IntegrityError, match="separation of duties"):
            with db.session() as s:
                s.execute(raw_moderation(dto.id, who))
    with db.session() as s:  # someone uninvolved may; and may not then be swapped for someone involved
        s.execute(raw_moderation(dto.id, org.moderator_id))
    with pytest.raises(IntegrityError, match="separation of duties"):
        with db.session() as s:
            s.execute(update(Moderation.__table__).values(moderator_id=org.auditor_id))
    with db.reader() as s:
        assert s.scalars(select(Moderation.moderator_id)).all() == [org.moderator_id]


def test_the_service_refuses_first_and_the_refusal_is_recorded(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today, participants=[org.senior_id])
    with pytest.raises(NotAllowed, match="took part in it as a participant"):
        with db.session() as s:
            moderation.moderate(s, dto.id, org.senior_id, outcome="agreed", today=today)
    refused = events(db, action="refused", record_id=str(dto.id))
    assert len(refused) == 1 and "Sasha Senior" in refused[0].detail and refused[0].actor == "tester"
    with db.session() as s:  # the rule in the database does not get in the way of a proper moderation
        assert moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=today).status == "moderated"


def test_role_changes_are_recorded(db: Database) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.get(Person, org.worker_id).role = "ASWP"
    with db.session() as s:
        import_people(s, "staff_id,name,role,team_code\nW001,Sam Worker,TM,T1\n")
    changes = [(e.old, e.new, e.actor) for e in events(db, table_name="person", record_id=str(org.worker_id),
                                                        action="update")]
    assert changes == [({"role": "SW"}, {"role": "ASWP"}, "tester"), ({"role": "ASWP"}, {"role": "TM"}, "tester")]
    assert events(db, action="import", table_name="person")


# --- 7. the audit trail -----------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """A kind of change: what it needs committed first, the change itself, the event it writes."""

    prepare: Callable[[Database, Org, date, Path], Any]
    run: Callable[[Session, Org, date, Any], None]
    event: tuple[str, str]  # (action, table)


def _closed_long_ago(db: Database, org: Org, today: date, tmp: Path) -> None:
    with db.session() as s:
        s.get(Case, org.other_case_id).closed_on = date(2010, 1, 1)


def _laptop_bundle(db: Database, org: Org, today: date, tmp: Path) -> Any:
    with db.session() as s:
        return export_changes(s, exported_by="laptop", device_name="laptop-1")


OPERATIONS = {
    "create": Operation(lambda *_: None, lambda s, org, today, _: s.add(Team(code="T9", name="New")), ("insert", "team")),
    "update": Operation(lambda *_: None, lambda s, org, today, _: setattr(s.get(Team, org.team_id), "name", "Renamed"),
                        ("update", "team")),
    "delete": Operation(lambda *_: None, lambda s, org, today, _: s.delete(s.get(Team, org.other_team_id)),
                        ("delete", "team")),
    "import": Operation(lambda *_: None, lambda s, org, today, _: import_people(
        s, "staff_id,name,role,team_code\nN001,New Person,SW,T1\n"), ("import", "person")),
    "export": Operation(lambda db, org, today, tmp: (start(db, org, today).id, tmp),
                        lambda s, org, today, ready: summaries.export_audit_record(
                            s, ready[0], today=today, cfg=CFG, out_dir=ready[1]), ("export", "audit")),
    "moderation": Operation(lambda db, org, today, tmp: submitted_audit(db, org, today).id,
                            lambda s, org, today, audit_id: moderation.moderate(
                                s, audit_id, org.moderator_id, outcome="agreed", today=today), ("insert", "moderation")),
    "sync": Operation(_laptop_bundle, lambda s, org, today, bundle: import_bundle(s, bundle), ("sync", "sync_import")),
    "purge": Operation(_closed_long_ago, lambda s, org, today, _: purge_closed_cases(s, years=6, today=today),
                       ("purge", "retention")),
}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_every_kind_of_change_writes_its_event_in_the_same_transaction(db: Database, today: date, name: str,
                                                                       tmp_path: Path) -> None:
    org = seed_org(db)
    operation = OPERATIONS[name]
    ready = operation.prepare(db, org, today, tmp_path)
    before = events(db)
    with pytest.raises(RuntimeError, match="rolled back"):
        with db.session() as s:
            operation.run(s, org, today, ready)
            s.flush()
            assert s.scalar(select(func.count()).select_from(AuditEvent)) > len(before)  # in this transaction
            raise RuntimeError("rolled back")
    assert len(events(db)) == len(before), "the events went with the rolled-back change"
    with db.session() as s:
        operation.run(s, org, today, ready)
    written = [(e.action, e.table_name) for e in events(db)[len(before):] if e.actor == "tester"]
    assert operation.event in written, written


def test_audit_events_cannot_be_changed_or_deleted(db: Database) -> None:
    seed_org(db)
    with db.reader() as s:
        first = s.scalars(select(AuditEvent.id)).first()
    table = AuditEvent.__table__
    for statement in (update(table).values(detail="rewritten"), update(table).values(actor="someone else"),
                      table.delete(), update(table).where(table.c.id == first).values(old=null(), new=null(), actor="x")):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session() as s:
                s.execute(statement)
    with db.session() as s:  # the one change allowed: the retention purge's redaction of the values
        s.execute(update(table).where(table.c.id == first).values(old=null(), new=null()))
    with db.reader() as s:
        event = s.get(AuditEvent, first)
    assert event.old is None and event.new is None and event.actor == "tester"


@POSTGRESQL_ONLY
def test_the_application_role_cannot_change_or_delete_audit_events(db: Database, db_url: str,
                                                                   app_login: str,  # noqa: F811
                                                                   today: date) -> None:
    seed_org(db)
    as_app = Database.open(db_url.replace("postgres@", f"{app_login}@"), actor=app_login)
    try:
        with as_app.session() as s:  # the app's own work: records and their events
            s.add(Team(code="APP", name="Made by the app role"))
        assert events(db, actor=app_login, action="insert")
        for statement in ("UPDATE audit_event SET detail = 'rewritten'", "UPDATE audit_event SET old = NULL, new = NULL",
                          "DELETE FROM audit_event", "TRUNCATE audit_event"):
            with pytest.raises(DBAPIError, match="permission denied"):
                with as_app.session() as s:
                    s.execute(text(statement))
        with pytest.raises(DBAPIError, match="permission denied"):
            with as_app.session() as s:
                s.execute(text("UPDATE alembic_version SET version_num = 'x'"))
    finally:
        as_app.dispose()
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.detail == "rewritten")) == 0


# --- 8. data at rest --------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_file_written_is_private(db: Database, today: date, tmp_path: Path) -> None:
    """Exports, records, reports, bundles and receipts: 0600 files in 0700 folders, whatever the umask."""
    from qa_tui.dates import Month
    from qa_tui.services.programme.periods import month_period
    from qa_tui.services.reports.figures import period_report
    from qa_tui.services.reports.markdown import export_report_markdown
    from qa_tui.services.reports.tables import export_report_csv

    old_umask = os.umask(0o022)
    try:
        org = seed_org(db)
        audit_id = start(db, org, today).id
        out = tmp_path / "new" / "exports"
        with db.session() as s:
            written = [summaries.export_audit_record(s, audit_id, today=today, cfg=CFG, out_dir=out)]
            report = period_report(s, month_period(Month(2026, 10)), today, CFG)
            written += export_report_csv(s, report, tmp_path / "reports")
            written.append(export_report_markdown(s, report, tmp_path / "reports"))
            bundle = export_changes(s, exported_by="tester", device_name="laptop-1")
        (tmp_path / "bundles").mkdir(mode=0o700)
        write_bundle(tmp_path / "bundles" / "b.qsb", bundle)
        written.append(tmp_path / "bundles" / "b.qsb")
        with db.session() as s:
            receipt = import_bundle(s, bundle)
        write_receipt(tmp_path / "bundles" / "b.qsb.receipt.json", receipt)
        written.append(tmp_path / "bundles" / "b.qsb.receipt.json")
    finally:
        os.umask(old_umask)
    for path in written:
        assert mode(path) == 0o600, path
        assert mode(path.parent) == 0o700, path.parent
    assert mode(tmp_path / "new") == 0o700, "folders made on the way to an export are private too"


def test_the_data_folder_stays_private_whichever_file_comes_first(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An export written before the database exists must not leave the data folder readable."""
    from qa_tui.config import data_dir, default_database_url
    from qa_tui.files import exports_dir, write_private

    monkeypatch.setenv("QA_TUI_DATA_DIR", str(tmp_path / "fresh" / "qa-tui"))
    old_umask = os.umask(0o022)
    try:
        write_private(exports_dir() / "record.md", "x")
        engine = make_engine(default_database_url())
        ensure_schema(engine)
        engine.dispose()
    finally:
        os.umask(old_umask)
    assert mode(data_dir()) == 0o700
    assert mode(exports_dir()) == 0o700


# --- 8. encryption at rest (optional SQLCipher) ----------------------------------------------


@pytest.fixture
def encrypted_url(tmp_path: Path, sqlcipher: None,  # noqa: F811
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("QA_TUI_DB_KEY", SENTINEL)
    url = f"sqlite+pysqlcipher:///{tmp_path / 'data' / 'secret.sqlite3'}"
    db = Database.open(url, actor="tester")
    ensure_schema(db.engine)
    with db.session() as s:
        s.add(Team(code="ENC", name="Encrypted team"))
    db.dispose()
    yield url


def test_an_encrypted_database_is_unreadable_without_its_key(encrypted_url: str, tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.sqlite3"
    data = b"".join(p.read_bytes() for p in path.parent.iterdir())
    assert not data.startswith(b"SQLite format 3") and b"Encrypted team" not in data and SENTINEL.encode() not in data
    db = Database.open(encrypted_url, actor="tester")
    try:
        with db.reader() as s:
            assert s.scalar(select(Team.name).where(Team.code == "ENC")) == "Encrypted team"
    finally:
        db.dispose()


def test_a_wrong_key_gives_one_clear_message_and_prints_nothing(encrypted_url: str, monkeypatch: pytest.MonkeyPatch,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QA_TUI_DB_KEY", "not the key")
    engine = make_engine(encrypted_url)
    with pytest.raises(DatabaseUnavailable, match="wrong key or not an encrypted database"):
        ensure_schema(engine)
    engine.dispose()
    plain = make_engine(encrypted_url.replace("sqlite+pysqlcipher", "sqlite"))
    with pytest.raises(DatabaseUnavailable, match="it is encrypted"):
        ensure_schema(plain)
    plain.dispose()
    out, err = capfd.readouterr()
    assert out == "" and err == "", "nothing may be printed over the screen"


async def test_the_app_says_wrong_key_in_its_dialog(encrypted_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QA_TUI_DB_KEY", "not the key")
    app = QAApp(load_config(db_override=encrypted_url), today=date(2026, 11, 24))
    async with app.run_test(size=SIZE) as pilot:
        await settle_after_failure(pilot)
        assert app.screen.__class__.__name__ == "DatabaseErrorScreen"
        assert "wrong key or not an encrypted database" in screen_text(app)
        await pilot.press("q")
    assert "hmac" not in capfd.readouterr().err


def test_the_key_comes_from_the_environment_the_keyring_or_a_prompt_never_the_url(
        encrypted_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="Do not put the key"):
        make_engine(encrypted_url.replace(":///", "://:inline-key@/"))
    monkeypatch.delenv("QA_TUI_DB_KEY")
    with pytest.raises(DatabaseUnavailable, match="no key was given: set QA_TUI_DB_KEY"):
        make_engine(encrypted_url)
    asked: list[str] = []
    ask_for_key(encrypted_url, ask=lambda prompt: asked.append(prompt) or SENTINEL)
    assert asked and "secret.sqlite3" in asked[0] and SENTINEL not in asked[0]
    db = Database.open(encrypted_url, actor="tester")  # the typed key, held in memory only
    try:
        with db.reader() as s:
            assert s.scalar(select(func.count()).select_from(Team)) == 1
    finally:
        db.dispose()
    assert not any(SENTINEL.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


# --- 8. no secret in any message, log or file -------------------------------------------------


@pytest.fixture
def secret_url(tmp_path: Path) -> str:
    return f"postgresql+psycopg://qa_user:{SENTINEL}@127.0.0.1:1/qa"  # nothing listens on port 1


def test_no_password_in_command_line_messages_or_logs(secret_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      caplog: pytest.LogCaptureFixture,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if "qa_tui.commands.retention_cmd" not in cli.COMMAND_MODULES:
        monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "qa_tui.commands.retention_cmd"))
    caplog.set_level(logging.DEBUG)
    for argv in (["db", "current"], ["db", "upgrade"], ["config", "check"], ["retention", "purge", "--dry-run"]):
        cli.main(["--db", secret_url, *argv])
    captured = capsys.readouterr()
    assert "127.0.0.1" in captured.err + captured.out  # the messages were shown
    assert SENTINEL not in captured.out + captured.err
    assert SENTINEL not in "\n".join(r.getMessage() for r in caplog.records)
    assert describe_url(secret_url) == "postgresql+psycopg://qa_user:***@127.0.0.1:1/qa"


def test_the_config_file_may_not_hold_a_password(tmp_path: Path) -> None:
    from qa_tui.config import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "postgresql+psycopg://alex:{SENTINEL}@qa-db.council.local/qa"\n')
    with pytest.raises(ConfigError, match="never put one in this file") as raised:
        load_config(path)
    assert SENTINEL not in str(raised.value)


def test_no_password_in_what_the_app_shows_or_writes(secret_url: str, tmp_path: Path) -> None:
    from qa_tui.context import open_context
    from screens.errors import describe_error

    with pytest.raises(DatabaseUnavailable) as raised:
        open_context(load_config(db_override=secret_url))
    message, is_connection = describe_error(raised.value)
    assert is_connection and "Cannot reach the database" in message and SENTINEL not in message


async def test_no_password_on_screen_in_notifications_or_files(secret_url: str, tmp_path: Path, pg_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # A dead server: the error dialog. A live one (which does not check the password here): the
    # title line that names the database.
    shown: list[str] = []
    for url in (secret_url, pg_url.replace("postgres@", f"postgres:{SENTINEL}@")):
        monkeypatch.setenv("QA_TUI_DATABASE_URL", url)
        app = QAApp(load_config(), today=date(2026, 11, 24))
        async with app.run_test(size=SIZE) as pilot:
            await settle_after_failure(pilot)
            shown += [screen_text(app), app.title, app.sub_title]
            shown += [str(n.message) for n in app._notifications]
            await pilot.press("q")
    assert "cannot be reached" in shown[0] and "127.0.0.1" in "".join(shown)
    assert SENTINEL not in "\n".join(shown)
    assert not any(SENTINEL.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


# --- 9. data minimisation ---------------------------------------------------------------------

CHILD_DETAILS = ("dob", "birth", "ethnic", "postcode", "address", "gender", "forename", "surname", "first_name",
                 "last_name", "nhs", "upn", "child_name")


def test_no_column_holds_a_childs_name_or_date_of_birth() -> None:
    suspicious = [f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns
                  if any(word in column.name.lower() for word in CHILD_DETAILS)]
    assert suspicious == []
    case_columns = set(Base.metadata.tables["case_file"].columns.keys())
    assert not {c for c in case_columns if "name" in c}, "a case is known by its reference only"
    assert HEAD_REVISION  # the scan covers the schema this version migrates to
