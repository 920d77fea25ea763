"""Re-audit for impact (issue 17): a moderated Requires improvement or Inadequate schedules a
re-audit of the case; the report per team and quarter gives grade before and after."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from qa_tui.cli import main
from qa_tui.db.engine import Database
from qa_tui.db.models import Moderation
from qa_tui.services.programme.impact import impact_report, reaudits, reaudits_due
from qa_tui.services.programme.periods import parse_financial_quarter
from tests.test_programme import CFG, Org, build

TODAY = date(2026, 11, 24)
LATER = date(2027, 1, 10)


def moderate(org: Org, audit_id, on: date, grade: int) -> None:  # noqa: ANN001
    org.add(Moderation(audit_id=audit_id, moderator_id=org.people["HOS1"], outcome="agreed", overall_grade=grade,
                       moderated_on=on, grades={}))


def seed(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        first = org.audit("C-1", "TM1", date(2026, 5, 1), status="moderated", overall_grade=2)
        moderate(org, first, date(2026, 5, 10), 2)  # Requires improvement: re-audit due 10 August
        again = org.audit("C-1", "TM1", date(2026, 10, 5), status="moderated", overall_grade=1)
        moderate(org, again, date(2026, 10, 20), 1)  # Good: improved
        worst = org.audit("C-B", "TMB", date(2026, 6, 20), status="moderated", overall_grade=3)
        moderate(org, worst, date(2026, 7, 1), 3)  # Inadequate: due 1 October, not yet held
        good = org.audit("C-2", "TM1", date(2026, 6, 1), status="moderated", overall_grade=1)
        moderate(org, good, date(2026, 6, 5), 1)  # Good: nothing scheduled


def test_requires_improvement_and_inadequate_schedule_a_reaudit(db: Database) -> None:
    seed(db)
    with db.reader() as s:
        scheduled = reaudits(s, TODAY, CFG)
        due = reaudits_due(s, TODAY, CFG)
        longer = reaudits(s, TODAY, replace(CFG, deadlines=replace(CFG.deadlines, impact_reaudit_months=6)))
    assert [(r.case_reference, r.grade_before, r.due_on, r.done_on, r.grade_after) for r in scheduled] == [
        ("C-1", 2, date(2026, 8, 10), date(2026, 10, 5), 1), ("C-B", 3, date(2026, 10, 1), None, None)]
    assert [r.case_reference for r in due] == ["C-B"]
    assert [r.due_on for r in longer] == [date(2026, 11, 10), date(2027, 1, 1)]


def test_impact_report_per_team_and_quarter(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(db)
    with db.reader() as s:
        rows = impact_report(s, parse_financial_quarter("2026-Q3"), TODAY, CFG)
        earlier = impact_report(s, parse_financial_quarter("2026-Q2"), TODAY, CFG)
    assert [(r.team_code, r.reaudited, r.improved, r.same, r.worse, r.pairs) for r in rows] == [
        ("A1", 1, 1, 0, 0, (("C-1", 2, 1),))]
    assert earlier == []
    url = str(db.engine.url.render_as_string(hide_password=False))
    assert main(["--db", url, "--today", TODAY.isoformat(), "report", "impact", "--quarter", "2026-Q3"]) == 0
    out = capsys.readouterr().out
    assert "A1" in out and "C-1: Requires improvement to be good → Good" in out


def test_what_changed_for_the_child_is_kept_apart_and_read_by_the_impact_report(
        db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import select

    from qa_tui.db.models import Action, Audit, Case
    from qa_tui.services.audits.actions import add_action, complete_action

    seed(db)
    with db.session() as s:
        org = Org.load(s)
        first = s.scalar(select(Audit.id).join(Case, Case.id == Audit.case_id)
                         .where(Case.reference == "C-1").order_by(Audit.audit_date))
        action = add_action(s, title="Contact plan with sibling", owner_id=org.people["TM1"],
                            raised_by_id=org.people["TM1"], audit_id=first, due_on=date(2026, 6, 1),
                            today=date(2026, 5, 12), cfg=CFG)
        done = complete_action(s, action.id, "Plan on file 20/05", org.people["TM1"], date(2026, 5, 20),
                               child_outcome="Sees her sister every week")
        late = add_action(s, title="Said after the quarter", owner_id=org.people["TM1"],
                          raised_by_id=org.people["TM1"], audit_id=first, due_on=date(2026, 12, 1),
                          today=date(2026, 5, 12), cfg=CFG)
        complete_action(s, late.id, "Done", org.people["TM1"], LATER, child_outcome="Said after the quarter")
    assert done.child_outcome == "Sees her sister every week" and done.evidence == "Plan on file 20/05"
    assert done.done_line == "done 20 May; for the child: Sees her sister every week"
    with db.reader() as s:
        assert s.get(Action, action.id).evidence == "Plan on file 20/05"  # not folded into the evidence
        rows = impact_report(s, parse_financial_quarter("2026-Q3"), LATER, CFG)
    assert rows[0].changes == (("C-1", "Sees her sister every week"),)  # January's is after Q3 ended
    url = str(db.engine.url.render_as_string(hide_password=False))
    assert main(["--db", url, "--today", LATER.isoformat(), "report", "impact", "--quarter", "2026-Q3"]) == 0
    out = capsys.readouterr().out
    assert "what changed for the child: Sees her sister every week" in out and "after the quarter" not in out
