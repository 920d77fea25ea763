"""Retention: QA records of cases closed more than N years ago are purged, everything else stays,
the purge is recorded in the audit trail and the trail no longer holds the purged values."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from qa_tui import cli
from qa_tui.db.engine import Database
from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    AuditEvent,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    Case,
    Draft,
    Feedback,
    FollowUp,
    Moderation,
    Person,
    RecordSeen,
    Team,
    WorkerResponse,
)
from qa_tui.errors import NotAllowed
from qa_tui.services.people.retention import purge_closed_cases, retention_cutoff

QA_MODELS = (Audit, AuditGrade, AuditParticipant, Moderation, Action, ActionChange, Feedback, FollowUp,
             WorkerResponse, RecordSeen)


@dataclass(frozen=True)
class Seeded:
    old_case: uuid.UUID  # closed 2019: past a six-year retention on 2026-11-24
    recent_case: uuid.UUID  # closed 2025
    open_case: uuid.UUID
    old_audit: uuid.UUID
    kept_audits: tuple[uuid.UUID, ...]


def seed(db: Database) -> Seeded:
    """One audited case of each kind (closed long ago, closed recently, open), each with the full
    set of QA records; the old case's text carries a marker to look for afterwards."""
    with db.session() as s:
        team = Team(code="R1", name="Retention team")
        s.add(team)
        s.flush()
        worker = Person(staff_id="RW1", name="Worker One", role="SW", team_id=team.id)
        auditor = Person(staff_id="RT1", name="Manager One", role="TM", team_id=team.id)
        moderator = Person(staff_id="RH1", name="Head One", role="HOS", team_id=team.id)
        template = AuditTemplate(key="live", template_version=1, name="Live", kind="live",
                                 scale=["Good", "Poor"], domains=[{"key": "voice", "label": "Voice"}])
        s.add_all([worker, auditor, moderator, template])
        s.flush()
        cases, audits = {}, {}
        for label, closed in (("old", date(2019, 3, 1)), ("recent", date(2025, 6, 1)), ("open", None)):
            case = Case(reference=f"REF-{label}", category="CIN", worker_id=worker.id, team_id=team.id,
                        opened_on=date(2018, 1, 1), closed_on=closed)
            s.add(case)
            s.flush()
            audit = Audit(kind="live", template_id=template.id, case_id=case.id, worker_id=worker.id,
                          auditor_id=auditor.id, team_id=team.id, audit_date=date(2018, 6, 1), status="moderated",
                          strengths=f"SECRET-{label} strengths", overall_grade=0)
            s.add(audit)
            s.flush()
            action = Action(title=f"SECRET-{label} action", owner_id=worker.id, team_id=team.id,
                            raised_by_id=auditor.id, raised_on=date(2018, 6, 1), due_on=date(2018, 7, 1),
                            audit_id=audit.id, case_id=case.id)
            feedback = Feedback(received_on=date(2018, 6, 2), case_id=case.id, worker_id=worker.id,
                                giver="parent", channel="form", rating=4, said=f"SECRET-{label} feedback")
            s.add_all([
                AuditParticipant(audit_id=audit.id, person_id=auditor.id),
                AuditGrade(audit_id=audit.id, domain="voice", grade=0, comment=f"SECRET-{label} grade"),
                Moderation(audit_id=audit.id, moderator_id=moderator.id, outcome="agreed",
                           moderated_on=date(2018, 6, 20), comment=f"SECRET-{label} moderation"),
                action, feedback,
            ])
            s.flush()
            s.add_all([
                ActionChange(action_id=action.id, change="extended", old_value="2018-07-01",
                             new_value="2018-08-01", reason=f"SECRET-{label} extension", changed_on=date(2018, 6, 25)),
                FollowUp(worker_id=worker.id, source_kind="audit", source_id=audit.id,
                         summary=f"SECRET-{label} finding", raised_on=date(2018, 6, 1)),
                FollowUp(worker_id=worker.id, source_kind="feedback", source_id=feedback.id,
                         summary=f"SECRET-{label} feedback finding", raised_on=date(2018, 6, 2)),
                WorkerResponse(source_kind="audit", source_id=audit.id, worker_id=worker.id, stance="disagree",
                               comment=f"SECRET-{label} response", responded_on=date(2018, 6, 3)),
                RecordSeen(source_kind="audit", source_id=audit.id, person_id=worker.id, seen_on=date(2018, 6, 3)),
                Draft(key=f"meeting:{label}", owner="tester",
                      payload={"audit_id": str(audit.id), "text": f"SECRET-{label} typed"}),
            ])
            cases[label], audits[label] = case.id, audit.id
        # Later edits leave update events holding old and new values.
        s.flush()
        for audit_id in audits.values():
            s.get(Audit, audit_id).to_improve = "SECRET edited " + str(audit_id)[:4]
    return Seeded(cases["old"], cases["recent"], cases["open"], audits["old"], (audits["recent"], audits["open"]))


def counts(db: Database) -> dict[str, int]:
    with db.reader() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in (*QA_MODELS, Case, Draft)}


def trail_mentions(db: Database, marker: str) -> int:
    """Audit events whose old or new values mention `marker`."""
    with db.reader() as s:
        return sum(marker in repr((e.old, e.new)) for e in s.scalars(select(AuditEvent)))


def test_cutoff_follows_the_configured_years(today: date) -> None:
    assert retention_cutoff(today, 0) is None
    assert retention_cutoff(today, 6) == date(2020, 11, 24)
    assert retention_cutoff(date(2028, 2, 29), 1) == date(2027, 2, 28)
    with pytest.raises(ValueError):
        retention_cutoff(today, -1)


def test_purge_removes_only_old_closed_cases_qa_records_and_records_itself(db: Database, today: date) -> None:
    seeded = seed(db)
    before = counts(db)
    assert trail_mentions(db, "SECRET-old") > 0

    with db.session() as s:
        report = purge_closed_cases(s, years=6, today=today)

    after = counts(db)
    one_case_each = {m.__tablename__: 1 for m in QA_MODELS} | {"follow_up": 2, "draft": 1}
    assert report.deleted == one_case_each | {"sync_conflict": 0}
    assert report.cases == 1 and report.cutoff == date(2020, 11, 24) and not report.dry_run
    assert {t: before[t] - after[t] for t in before} == one_case_each | {"case_file": 0}
    with db.reader() as s:
        assert s.get(Case, seeded.old_case) is not None  # the case itself is caseload data and stays
        assert s.get(Audit, seeded.old_audit) is None
        assert all(s.get(Audit, a) is not None for a in seeded.kept_audits)
        purge = s.scalar(select(AuditEvent).where(AuditEvent.action == "purge"))
    assert purge.actor == "tester" and purge.table_name == "retention"
    assert purge.new["cutoff"] == "2020-11-24" and purge.new["cases"] == 1
    assert purge.new["deleted"]["audit"] == 1 and purge.new["redacted_events"] == report.redacted_events > 0
    # The trail keeps who did what when, but no longer the purged values; the rest is untouched.
    assert trail_mentions(db, "SECRET-old") == 0
    assert trail_mentions(db, "SECRET-recent") > 0 and trail_mentions(db, "SECRET-open") > 0
    with db.reader() as s:
        old_events = s.scalars(select(AuditEvent).where(AuditEvent.record_id == str(seeded.old_audit))).all()
    assert {e.action for e in old_events} >= {"insert", "update"}
    assert all(e.old is None and e.new is None and e.actor == "tester" for e in old_events)


def test_dry_run_counts_the_same_and_writes_nothing(db: Database, today: date) -> None:
    seed(db)
    before = counts(db)
    with db.session() as s:
        planned = purge_closed_cases(s, years=6, today=today, dry_run=True)
    assert counts(db) == before
    assert trail_mentions(db, "SECRET-old") > 0
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "purge")) == 0
    with db.session() as s:
        done = purge_closed_cases(s, years=6, today=today)
    assert (planned.deleted, planned.cases, planned.redacted_events) == (done.deleted, done.cases, done.redacted_events)


def test_zero_years_keeps_everything(db: Database, today: date) -> None:
    seed(db)
    before = counts(db)
    with db.session() as s:
        report = purge_closed_cases(s, years=0, today=today)
    assert report.cutoff is None and report.total == 0 and "nothing purged" in report.summary
    assert counts(db) == before


def test_a_shorter_period_reaches_recently_closed_cases(db: Database, today: date) -> None:
    seeded = seed(db)
    with db.session() as s:
        report = purge_closed_cases(s, years=1, today=today)
    assert report.cases == 2
    with db.reader() as s:
        assert s.scalars(select(Audit.case_id)).all() == [seeded.open_case]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_purge_fails_whole_when_the_app_role_cannot_redact(db: Database, db_url: str, today: date,
                                                           app_login: str) -> None:
    """On PostgreSQL the application role may not change audit events, so a purge run as a
    person's login is refused as a whole (SQLite, one user's own file, has no roles)."""
    seed(db)
    before = counts(db)
    as_app = Database.open(db_url.replace("postgres@", f"{app_login}@"), actor=app_login)
    try:
        with pytest.raises(NotAllowed, match="database owner"):
            with as_app.session() as s:
                purge_closed_cases(s, years=6, today=today)
    finally:
        as_app.dispose()
    assert counts(db) == before
    assert trail_mentions(db, "SECRET-old") > 0


@pytest.fixture
def app_login(db_url: str) -> Iterator[str]:
    """A PostgreSQL login role granted qa_tui_app, as each person's login is."""
    name = f"qa_tui_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN IN ROLE qa_tui_app'))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"))
        conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def test_command_line_dry_run_then_purge(db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    seed(db)
    config = tmp_path / "config.toml"
    config.write_text("[retention]\nyears_after_closure = 6\n")
    base = ["--db", db_url, "--config", str(config), "--today", "2026-11-24", "retention", "purge"]
    before = counts(db)

    assert cli.main([*base, "--dry-run"]) == 0
    assert "would purge the QA records of 1 cases" in capsys.readouterr().out
    assert counts(db) == before

    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert cli.main(base) == 2
    assert "--yes" in capsys.readouterr().err
    assert counts(db) == before

    assert cli.main([*base, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "purged the QA records of 1 cases" in out and "Redacted" in out
    assert counts(db)["audit"] == before["audit"] - 1
