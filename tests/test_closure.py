"""Audits on closure or transfer: cases closed or moved by hand or by an import appear in the
service leader's list, the closure audit uses the framework's checks, and it counts towards the
leader's QA programme."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qa_tui.config import parse_config
from qa_tui.dates import add_months, today_local
from qa_tui.db.engine import Database
from qa_tui.db.models import Case
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits import record as audits
from qa_tui.services.audits import closure
from qa_tui.services.imports.caseload import IncomingCase, apply_caseload
from qa_tui.services.programme.obligations import obligations
from tests.kinds_seed import Org, seed_org

CFG = parse_config({})


@pytest.fixture
def today() -> date:
    """The trail stamps each change with the clock, so the period looked at must include it."""
    return today_local()


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def queue(db: Database, today: date, since: date, leader: str | None = None, org: Org | None = None) -> list[closure.QueueItem]:
    with db.reader() as s:
        leader_id = org.people[leader] if org and leader else None
        return closure.closure_transfer_queue(s, today, since, cfg=CFG, leader_id=leader_id)


def test_closed_by_hand_and_moved_team_appear_for_the_right_leader(db: Database, org: Org, today: date) -> None:
    since = today - timedelta(days=30)
    with db.session() as s:
        s.get(Case, org.cases["C-003"]).closed_on = today - timedelta(days=2)  # N2, North
        s.get(Case, org.cases["C-005"]).team_id = org.teams["N1"]  # S1 → N1: South's work is audited
    items = {(i.reference, i.event): i for i in queue(db, today, since)}
    assert set(items) == {("C-003", "closed"), ("C-005", "transferred"), ("C-007", "closed")}
    moved = items[("C-005", "transferred")]
    assert (moved.team_code, moved.to_team_code, moved.event_on) == ("S1", "N1", today)
    assert moved.event_label == "Moved S1 → N1"
    closed = items[("C-003", "closed")]
    assert (closed.event_on, closed.due_by, closed.team_code) == (today - timedelta(days=2), today + timedelta(days=26), "N2")
    assert closed.worker_name == "Sam Birch" and closed.audit_id is None

    north = {(i.reference, i.event) for i in queue(db, today, since, "opsn", org)}
    south = {(i.reference, i.event) for i in queue(db, today, since, "opss", org)}
    everyone = {(i.reference, i.event) for i in queue(db, today, since, "dd", org)}
    assert north == {("C-003", "closed"), ("C-007", "closed")}
    assert south == {("C-005", "transferred")}
    assert everyone == set(items)
    assert {(i.reference, i.event) for i in queue(db, today, since, "swa", org)} == north  # their own service
    assert {i.reference for i in queue(db, today, today - timedelta(days=5))} == {"C-003", "C-005"}


def test_allocation_to_a_first_team_is_not_a_transfer_and_reopening_drops_the_closure(
        db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        s.get(Case, org.cases["C-004"]).team_id = None
    with db.session() as s:
        s.get(Case, org.cases["C-004"]).team_id = org.teams["S1"]  # from no team: an allocation
        s.get(Case, org.cases["C-007"]).closed_on = None  # reopened
    assert queue(db, today, today - timedelta(days=30)) == []


def test_a_closure_learnt_of_late_by_an_import_still_appears(db: Database, org: Org, today: date) -> None:
    """An Annex A import closing a case with a date before the period changes it through the
    ORM, so the trail holds the update and the case is listed."""
    long_ago = today - timedelta(days=90)
    with db.session() as s:
        result = apply_caseload(s, "annex-a.xlsx", [IncomingCase("C-001", "CP", closed_on=long_ago)],
                                today=today, what="Annex A")
        assert result.plan.count("closed") == 1
    items = queue(db, today, today - timedelta(days=7))
    assert [(i.reference, i.event, i.event_on) for i in items] == [("C-001", "closed", long_ago)]
    assert items[0].due_by == long_ago + timedelta(days=28)


def test_since_after_today_is_refused(db: Database, org: Org, today: date) -> None:
    with pytest.raises(ValidationError, match="is after"):
        queue(db, today, today + timedelta(days=1))


def test_closure_audit_uses_the_checks_and_counts_for_the_leader(db: Database, org: Org, today: date) -> None:
    leader = org.people["opsn"]
    with db.reader() as s:
        before = next(line for line in obligations(s, leader, today, CFG).lines if line.task == "audit_on_closure")
    assert (before.required, before.done) == (1, 0)  # C-007 closed ten days ago

    with db.session() as s:
        with pytest.raises(NotAllowed, match="You hold case C-007"):
            closure.start_closure_audit(s, org.cases["C-007"], org.people["swa"], today=today, cfg=CFG)
        audit = closure.start_closure_audit(s, org.cases["C-007"], leader, today=today, cfg=CFG)
        assert audit.kind == "closure"
        assert [g.label for g in audit.grades] == [
            "Objectives of the plan met", "Chronology checked for gaps", "Key data recorded",
            "Overall quality acceptable", "Step-down plan in place"]
        assert audit.template.scale == ("Met", "Partly met", "Not met")
        assert closure.start_closure_audit(s, org.cases["C-007"], leader, today=today, cfg=CFG).id == audit.id
        assert closure.describe_closure(s, org.cases["C-007"]) == (
            f"Case C-007 closed on {today - timedelta(days=10):%-d %B %Y}.")
    item = queue(db, today, today - timedelta(days=30), "opsn", org)[0]
    assert (item.audit_id, item.audit_status, item.auditor_name) == (audit.id, "draft", "Nia North")

    with db.session() as s:
        for g in audit.grades:
            audits.set_grade(s, audit.id, g.domain, 0)
        audits.set_overall_grade(s, audit.id, 0)
        audits.submit_for_moderation(s, audit.id, today)
    with db.reader() as s:
        lines = {line.task: line for line in obligations(s, leader, today, CFG).lines
                 if line.period.end >= today}
    assert (lines["audit_on_closure"].done, lines["audit_on_closure"].status) == (1, "met")


def test_describe_a_move_of_team(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        s.get(Case, org.cases["C-002"]).team_id = org.teams["N2"]
    with db.reader() as s:
        assert closure.describe_closure(s, org.cases["C-002"]) == f"Case C-002 moved from N1 to N2 on {today:%-d %B %Y}."
        assert closure.describe_closure(s, org.cases["C-004"]) == "Case C-004 is open and has not moved team."


def test_the_queue_looks_back_twelve_months_by_default_and_says_when_an_audit_is_overdue(
        db: Database, org: Org, today: date) -> None:
    """The window and the due/overdue status are the service's: thirteen months on, only the closures of
    the last twelve months are listed, and one not audited within its days is overdue."""
    with db.reader() as s:
        assert [(i.reference, i.audit_label, i.overdue) for i in closure.closure_queue(s, today, cfg=CFG)] == [
            ("C-007", "due", False)]
    later = add_months(today, 13)
    with db.session() as s:
        s.get(Case, org.cases["C-003"]).closed_on = add_months(today, 2)
    with db.reader() as s:
        year_on = closure.closure_queue(s, later, cfg=CFG)
        assert [(i.reference, i.audit_label, i.overdue) for i in year_on] == [("C-003", "overdue", True)]
        assert {i.reference for i in closure.closure_queue(s, later, cfg=CFG, months=14)} == {"C-003", "C-007"}
        with pytest.raises(ValidationError, match="at least 1"):
            closure.closure_queue(s, today, cfg=CFG, months=0)
    assert closure.window_start(date(2026, 11, 24)) == date(2025, 11, 25)
    assert closure.window_start(date(2026, 3, 31), 1) == date(2026, 3, 1)  # 28 February, then the day after

    with db.session() as s:
        closure.start_closure_audit(s, org.cases["C-003"], org.people["opsn"], today=later, cfg=CFG)
    with db.reader() as s:
        assert [(i.audit_label, i.overdue) for i in closure.closure_queue(s, later, cfg=CFG)] == [("draft", False)]
