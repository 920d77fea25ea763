"""The demo council: its shape, determinism, refusal of a non-empty database, and `qa-tui demo`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui import cli
from qa_tui.config import Config
from qa_tui.dates import add_months, financial_year_start, moderation_deadline
from qa_tui.db.migrate import ensure_schema
from qa_tui.db.engine import Database, sqlite_path
from qa_tui.db.migrate import upgrade
from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    AuditEvent,
    AuditGrade,
    AuditTemplate,
    Case,
    CaseDraw,
    DrawPick,
    DrawPool,
    Feedback,
    FollowUp,
    Moderation,
    Observation,
    Person,
    Supervision,
    Team,
)
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo, built_by_demo, tables_holding_data
from qa_tui.demo.phrases import FIRST_NAMES, SURNAME_ENDINGS, SURNAME_STEMS
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits.draw_algorithm import derive_pick

SMALL = 300


@pytest.fixture
def built(db: Database, today: date) -> Database:
    summary = build_demo(db, today=today, cases=SMALL, seed=7)
    assert summary.counts["case_file"] == SMALL
    assert summary.rows == sum(summary.counts.values()) > SMALL
    return db


def _fresh_sqlite(tmp_path: Path, name: str) -> Database:
    db = Database.open(f"sqlite:///{tmp_path / name}", actor="tester")
    upgrade(db.engine)
    return db


def _snapshot(db: Database) -> dict[str, object]:
    """What must not change between builds with the same inputs, IDs included."""
    with db.reader() as s:
        staff = dict(s.execute(select(Person.id, Person.staff_id)).all())
        refs = dict(s.execute(select(Case.id, Case.reference)).all())
        return {
            "people": sorted(s.execute(select(Person.id, Person.staff_id, Person.name, Person.role)).all()),
            "allocations": sorted((ref, staff.get(worker)) for ref, worker in
                                  s.execute(select(Case.reference, Case.worker_id)).all()),
            "cases": sorted(s.execute(select(Case.id, Case.reference, Case.category, Case.opened_on,
                                             Case.closed_on, Case.cp_plan_start, Case.cp_plan_end)).all()),
            "picks": sorted((staff[worker], ref)
                            for worker, ref in s.execute(select(DrawPick.worker_id, DrawPick.case_reference))),
            "audits": sorted((a.id, refs.get(a.case_id), a.status, a.audit_date, a.overall_grade)
                             for a in s.scalars(select(Audit))),
            "grades": sorted(s.execute(select(AuditGrade.id, AuditGrade.audit_id, AuditGrade.domain,
                                              AuditGrade.grade)).all()),
            "actions": sorted(s.execute(select(Action.id, Action.status, Action.due_on)).all()),
        }


# --- shape (one build per database, checked from several sides) ---------------------------


def test_small_council_has_the_default_shape_and_every_state(built: Database, today: date) -> None:
    _assert_the_default_organisation(built, today)
    _assert_every_state_the_app_shows(built, today)
    _assert_draws_verify_with_the_draw_algorithm(built)


def test_small_council_is_synthetic_and_leaves_one_trail_event(built: Database) -> None:
    _assert_no_personal_data(built)
    _assert_one_trail_event_for_the_bulk_rows(built)


def _assert_every_state_the_app_shows(built: Database, today: date) -> None:
    with built.reader() as s:
        live = s.scalars(select(Audit).where(Audit.kind == "live")).all()
        assert {a.status for a in live} == {"draft", "submitted", "moderated", "finalised"}
        late_drafts = [a for a in live if a.status == "draft"
                       and moderation_deadline(a.audit_date, 28) < today]
        assert late_drafts, "some live audits are still in draft after their moderation deadline"
        assert any(a.status != "finalised" and a.audit_date + timedelta(weeks=4) < today for a in live)
        assert {outcome for (outcome,) in s.execute(select(Moderation.outcome))} == {"agreed", "regraded", "returned"}

        actions = s.scalars(select(Action)).all()
        assert any(a.status == "open" and a.due_on < today for a in actions), "overdue actions"
        assert any(a.status == "open" and a.due_on >= today for a in actions), "actions not yet due"
        done = [a for a in actions if a.status == "done"]
        assert done and all(a.evidence and a.completed_on and a.completed_on <= today for a in done)
        extended = s.scalars(select(ActionChange).where(ActionChange.change == "extended")).all()
        assert extended and all(c.reason for c in extended)

        dips = s.scalars(select(Audit).join(AuditTemplate).where(
            Audit.kind == "dip_sample", AuditTemplate.key == "dip")).all()
        assert dips and {a.status for a in dips} <= {"draft", "finalised"}
        assert s.scalar(select(func.count()).select_from(Feedback)) > 0
        follow_ups = s.scalars(select(FollowUp)).all()
        assert any(f.supervision_id for f in follow_ups) and any(f.supervision_id is None for f in follow_ups)

        cp = s.scalars(select(Case).where(Case.cp_plan_start.is_not(None))).all()
        assert any(c.closed_on is None and c.cp_plan_end is None and c.cp_plan_start < add_months(today, -18)
                   for c in cp), "a child protection plan over 18 months"
        assert any(c.cp_plan_end and (c.cp_plan_end - c.cp_plan_start).days < 91 for c in cp), \
            "a plan that ended within three months"


def _assert_the_default_organisation(built: Database, today: date) -> None:
    with built.reader() as s:
        people = s.scalars(select(Person)).all()
        by_id = {p.id: p for p in people}
        teams = s.scalars(select(Team)).all()
        assert 8 <= len(teams) <= 12 and 60 <= len(people) <= 120
        for team in teams:
            members = [p for p in people if p.team_id == team.id]
            assert [p.role for p in members].count("TM") == 1, team.code
            tm = next(p for p in members if p.role == "TM")
            roles = [p.role for p in members]
            if "SW" in roles:
                assert roles.count("ASWP") == 1 and 6 <= roles.count("SW") <= 8 and 1 <= roles.count("NQSW") <= 2
                for p in members:
                    if p.role != "TM":
                        assert p.manager_id == tm.id
                    if p.role == "NQSW":
                        assert today - timedelta(days=365) <= p.asye_start <= today
        chain = {"TM": ("OPS", "HOS"), "OPS": ("HOS",), "HOS": ("AD",), "AD": ("DD",)}
        for p in people:
            if p.role in chain:
                assert by_id[p.manager_id].role in chain[p.role], p.staff_id
        assert {p.role for p in people} >= {"DD", "AD", "HOS", "OPS", "IRO", "PI"}

        user = s.scalar(select(Person).where(Person.staff_id == DEMO_USER_STAFF_ID))
        assert user.role == "TM" and s.get(Team, user.team_id).code == "AST1"
        own = s.scalars(select(Action).where(Action.team_id == user.team_id, Action.status == "open",
                                             Action.due_on < today)).all()
        assert own, "the demo user's team has overdue actions to show"

        holders = [p for p in people if p.role in ("SW", "ASWP")]
        observed = set(s.scalars(select(Observation.worker_id).where(
            Observation.observed_on >= financial_year_start(today))))
        assert len(holders) // 2 < sum(p.id in observed for p in holders) < len(holders)
        last = dict(s.execute(select(Supervision.worker_id, func.max(Supervision.held_on))
                              .group_by(Supervision.worker_id)).all())
        on_cadence = [p for p in holders if p.id in last and add_months(last[p.id], 1) >= today]
        assert len(holders) // 2 < len(on_cadence) < len(holders), "most supervised on cadence, some overdue"


def _assert_no_personal_data(built: Database) -> None:
    with built.reader() as s:
        refs = s.scalars(select(Case.reference)).all()
        assert len(set(refs)) == SMALL and all(re.fullmatch(r"DEMO-\d{6}", r) for r in refs)
        surnames = {stem + end for stem in SURNAME_STEMS for end in SURNAME_ENDINGS}
        for name, login in s.execute(select(Person.name, Person.login)):
            first, last = name.split(" ")
            assert first in FIRST_NAMES and last in surnames and login is None
        texts = [*s.scalars(select(Audit.lived_experience)), *s.scalars(select(Feedback.said)),
                 *s.scalars(select(FollowUp.summary)), *s.scalars(select(Action.title))]
        names = set(FIRST_NAMES) | set(SURNAME_STEMS)
        assert not [t for t in texts if names & set(re.findall(r"[A-Z][a-z]+", t))]
    assert {c.name for c in Case.__table__.columns} <= {
        "id", "created_at", "updated_at", "updated_by", "version", "synced_version", "reference",
        "category", "worker_id", "team_id", "opened_on", "closed_on", "cp_plan_start", "cp_plan_end"}


def _assert_draws_verify_with_the_draw_algorithm(built: Database) -> None:
    with built.reader() as s:
        same_worker = (DrawPick.draw_id == CaseDraw.id) & (DrawPick.worker_id == DrawPool.worker_id)
        rows = s.execute(select(CaseDraw.seed, DrawPool.worker_key, DrawPool.eligible, DrawPick.case_reference)
                         .join(DrawPool, DrawPool.draw_id == CaseDraw.id).join(DrawPick, same_worker)).all()
        assert rows
        assert all(derive_pick(seed, key, eligible) == picked for seed, key, eligible, picked in rows)
        empty = [p for p in s.scalars(select(DrawPool)) if not p.eligible]
        assert all(p.empty_reason for p in empty)
        assert all(a.draw_pick_id for a in s.scalars(select(Audit).where(Audit.kind == "live")))


def _assert_one_trail_event_for_the_bulk_rows(built: Database) -> None:
    with built.reader() as s:
        events = s.scalars(select(AuditEvent)).all()
        summaries = [e.detail for e in events if e.action == "demo"]
        assert len(summaries) == 1
        assert summaries[0].startswith(f"built demo council: {SMALL} cases, seed 7, today 2026-11-24")
        assert all(e.table_name == "audit_template" for e in events if e.action == "insert")
        assert built_by_demo(s)
        assert {p.updated_by for p in s.scalars(select(Person))} == {"demo"}


# --- determinism and refusal --------------------------------------------------------------


def test_same_seed_same_council_on_either_database(built: Database, today: date, tmp_path: Path) -> None:
    again = _fresh_sqlite(tmp_path, "again.sqlite3")
    other = _fresh_sqlite(tmp_path, "other.sqlite3")
    try:
        build_demo(again, today=today, cases=SMALL, seed=7)
        build_demo(other, today=today, cases=SMALL, seed=8)
        first = _snapshot(built)
        assert _snapshot(again) == first
        different = _snapshot(other)
        assert different["allocations"] != first["allocations"]
        assert different["people"] != first["people"]
    finally:
        again.dispose()
        other.dispose()


def test_refuses_a_database_that_holds_data(db: Database, today: date) -> None:
    with db.session() as s:
        s.add(Team(code="REAL", name="A real team"))
    with pytest.raises(NotAllowed, match=r"already holds data \(team\)"):
        build_demo(db, today=today, cases=SMALL)
    with db.reader() as s:
        assert tables_holding_data(s) == ["team"]
        assert not built_by_demo(s)


def test_rejects_a_silly_case_count(db: Database, today: date) -> None:
    with pytest.raises(ValidationError, match="--cases"):
        build_demo(db, today=today, cases=0)


# --- the command --------------------------------------------------------------------------


def test_cli_build_only_prints_counts_and_refuses_a_second_build(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--today", "2026-11-24", "demo", "--build-only", "--db", db_url, "--cases", str(SMALL), "--seed", "3"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"case_file\s+300\b", out) and "rows in" in out
    assert cli.main(args) == 2
    assert "already holds data" in capsys.readouterr().err

    code = cli.main([*args, "--rebuild"])
    err = capsys.readouterr().err
    if sqlite_path(db_url) is None:
        assert code == 2 and "--rebuild deletes a SQLite file" in err
    else:
        assert code == 0, err


def test_cli_rebuild_will_not_delete_a_sqlite_database_the_demo_did_not_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{tmp_path / 'real.sqlite3'}"
    db = Database.open(db_url, actor="tester")
    ensure_schema(db.engine)
    with db.session() as s:
        s.add(Team(code="REAL", name="A real team"))
    db.dispose()
    assert cli.main(["demo", "--build-only", "--rebuild", "--db", db_url]) == 2
    assert "did not build" in capsys.readouterr().err
    assert sqlite_path(db_url).exists()


def test_cli_demo_builds_its_own_file_once_and_opens_the_app_as_the_first_manager(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from qa_tui.commands import demo_cmd

    opened: list[Config] = []
    monkeypatch.setattr(demo_cmd, "run_app", lambda args, config: opened.append(config) or 0)
    args = ["--today", "2026-11-24", "demo", "--cases", str(SMALL)]
    assert cli.main(args) == 0
    assert "Building the demo council" in capsys.readouterr().out
    assert cli.main(args) == 0
    assert "Using the demo council already in" in capsys.readouterr().out
    demo_file = tmp_path / "data" / "demo.sqlite3"
    assert [c.database_url for c in opened] == [f"sqlite:///{demo_file}"] * 2
    assert {c.user_staff_id for c in opened} == {DEMO_USER_STAFF_ID}
