"""A whole live audit with the keyboard alone: draw, grade, type, add an action and a finding,
move between cases, submit, summarise — then the database holds exactly what was typed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import (
    Action,
    Audit,
    AuditGrade,
    CaseDraw,
    DrawPick,
    FollowUp,
    Person,
)
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

BUILT_ON = date(2026, 11, 24)
MEETING_DAY = date(2026, 12, 3)  # a month the demo has not drawn yet


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=BUILT_ON, cases=400)
    return db



async def test_live_audit_by_keys_records_exactly_what_was_typed(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert "no draw" in screen_text(app).lower() or "No draw" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "Drew" in " ".join(str(n.message) for n in app._notifications)
        assert "by Parker Lanternpenny" in screen_text(app), "who drew, by name (not the computer's account)"

        await pilot.press("enter")  # open the meeting at the first case
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
        bar = screen_text(app)
        assert "Case 1 of" in bar and "Worker " in bar

        # Six domains then the overall grade, one key each: the cursor moves on after a grade.
        for key in ["2", "2", "3", "2", "1", "3", "2"]:
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("w")
        await pilot.press(*"Warm direct work")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("i")
        await pilot.press(*"Chronology gaps")
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Update chronology")
        await pilot.press("ctrl+s")
        await settle(pilot)

        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"Praise the direct work")
        await pilot.press("enter")
        await settle(pilot)

        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)

        await pilot.press("n")  # next case: grade only one domain, leave it in draft
        await settle(pilot)
        assert "Case 2 of" in screen_text(app)
        await pilot.press("3")
        await settle(pilot)

        await pilot.press("e")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingSummaryScreen"
        summary = screen_text(app)
        notes = [str(n.message) for n in app._notifications]
        assert "2 cases audited" in summary and "1 sent to moderation" in summary, notes

    with demo_db.reader() as s:
        draw = s.scalar(select(CaseDraw).where(CaseDraw.month == "2026-12"))
        assert draw is not None and draw.drawn_by == DEMO_USER_STAFF_ID  # the person, not the login
        first_pick = s.scalar(select(DrawPick).where(DrawPick.draw_id == draw.id).join(
            Audit, Audit.draw_pick_id == DrawPick.id).where(Audit.status == "submitted"))
        audit = s.scalar(select(Audit).where(Audit.draw_pick_id == first_pick.id))
        assert audit.strengths == "Warm direct work"
        assert audit.to_improve == "Chronology gaps"
        assert audit.overall_grade == 1
        grades = dict(s.execute(select(AuditGrade.domain, AuditGrade.grade).where(
            AuditGrade.audit_id == audit.id, AuditGrade.participant_id.is_(None))).all())
        assert grades == {"recording": 1, "practice": 1, "impact": 2, "outcomes": 1, "voice": 0, "oversight": 2}
        action = s.scalar(select(Action).where(Action.audit_id == audit.id))
        assert action.title == "Update chronology"
        assert action.owner_id == audit.worker_id
        assert action.due_on == MEETING_DAY + timedelta(weeks=4)
        finding = s.scalar(select(FollowUp).where(FollowUp.source_id == audit.id))
        assert finding.summary == "Praise the direct work" and finding.worker_id == audit.worker_id
        auditor = s.get(Person, audit.auditor_id)
        assert auditor.staff_id == DEMO_USER_STAFF_ID
        drafts = s.scalars(select(Audit).where(Audit.status == "draft", Audit.audit_date == MEETING_DAY)).all()
        assert len(drafts) == 1
        assert s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == drafts[0].id)) == 2
