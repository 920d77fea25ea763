"""Moderation by keys: agree one audit, regrade another (both grade sets kept), and the refusal
when the moderator took part in the audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, AuditGrade, Moderation, Person
from qa_tui.demo import build_demo
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=TODAY, cases=400)
    return db



def notes(app) -> str:  # noqa: ANN001
    return " | ".join(str(n.message) for n in app._notifications)


async def test_moderator_agrees_one_and_regrades_another(demo_db: Database) -> None:
    with demo_db.reader() as s:
        hos = s.scalar(select(Person).where(Person.role == "HOS").order_by(Person.staff_id))
        waiting = s.scalars(select(Audit).where(Audit.status == "submitted").order_by(Audit.submitted_at, Audit.id)).all()
        assert len(waiting) >= 2
        first, second = waiting[0].id, waiting[1].id
        second_grades = dict(s.execute(select(AuditGrade.domain, AuditGrade.grade).where(
            AuditGrade.audit_id == second, AuditGrade.participant_id.is_(None))).all())
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=hos.staff_id)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert "Waiting for moderation" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ModerateAuditScreen"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"Consistent with the evidence", "enter")
        await settle(pilot)
        assert "Grades agreed" in notes(app)
        assert app.screen.__class__.__name__ == "ModerationScreen"

        await pilot.press("enter")  # the next oldest is now first
        await settle(pilot)
        new_grade = 3 if second_grades["recording"] != 3 else 2
        await pilot.press(str(new_grade + 1))
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        await pilot.press(*"Recording is thinner than graded", "enter")
        await settle(pilot)
        assert "Regrade recorded" in notes(app), notes(app)

    with demo_db.reader() as s:
        agreed = s.scalar(select(Moderation).where(Moderation.audit_id == first))
        assert agreed.outcome == "agreed" and agreed.comment == "Consistent with the evidence"
        assert agreed.moderator_id == hos.id
        regraded = s.scalar(select(Moderation).where(Moderation.audit_id == second))
        assert regraded.outcome == "regraded" and regraded.grades["recording"]["grade"] == new_grade
        kept = s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == second, AuditGrade.domain == "recording",
                                                       AuditGrade.participant_id.is_(None)))
        assert kept == second_grades["recording"]  # the auditor's grade is kept beside the moderator's
        assert s.get(Audit, second).status == "moderated"


async def test_someone_who_took_part_cannot_moderate_and_the_refusal_is_recorded(demo_db: Database) -> None:
    with demo_db.reader() as s:
        audit = s.scalar(select(Audit).where(Audit.status == "submitted").order_by(Audit.submitted_at, Audit.id))
        auditor = s.get(Person, audit.auditor_id)
        auditor.role  # noqa: B018 - loaded before the session closes
    with demo_db.session() as s:  # make the auditor a moderator so only taking part stands in the way
        s.get(Person, auditor.id).role = "OPS"
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=auditor.staff_id)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "took part" in notes(app) or "auditor" in notes(app), notes(app)
    with demo_db.reader() as s:
        assert s.get(Audit, audit.id).status == "submitted"
        assert not s.scalars(select(Moderation).where(Moderation.audit_id == audit.id,
                                                      Moderation.moderator_id == auditor.id)).all()
        refusals = s.scalars(select(AuditEvent).where(AuditEvent.action == "refused",
                                                      AuditEvent.record_id == str(audit.id))).all()
        assert len(refusals) == 1
