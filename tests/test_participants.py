"""The meeting's attendance list and the grid of participants' grades: attendees take part in every
audit the meeting opens, every participant × every domain and the overall grade by keys, and
full names only where first names clash."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qa_tui.config import DrawRules
from qa_tui.dates import Month
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditGrade, AuditParticipant, Person
from qa_tui.services.audits.draw import draw_cases_for_team
from qa_tui.services.audits.meeting import open_case, plan_for_draw
from qa_tui.services.audits.participants import (
    OVERALL,
    meeting_attendance,
    participant_grid,
    set_meeting_attendance,
    set_participant_grade,
    shown_names,
    short_label,
)
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_audits import CFG, seed_org

MONTH = Month(2026, 11)


def test_first_names_unless_they_clash() -> None:
    a, b, c, d, e = (f"id-{n}" for n in range(5))
    shown = shown_names([(a, "Sam Worker", "W1"), (b, "Sam Other", "W2"), (c, "Pat Advanced", "A1"),
                         (d, "Alex Smith", "X1"), (e, "Alex Smith", "X2")])
    assert shown == {a: "Sam Worker", b: "Sam Other", c: "Pat", d: "Alex Smith (X1)", e: "Alex Smith (X2)"}
    assert [short_label(x) for x in ("Quality of recording", "Outcomes for the child", "Voice of the child",
                                     "Management oversight", "Impact")] == [
        "Recording", "Outcomes", "Voice", "Oversight", "Impact"]


def test_attendees_take_part_in_each_audit_the_meeting_opens(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.add(Person(staff_id="S002", name="Sam Second", role="SW", team_id=org.team_id))
    with db.session() as s:
        draw = draw_cases_for_team(s, org.team_id, MONTH, today, DrawRules(), seed="b" * 32)
        plan = plan_for_draw(s, draw.id)
        first = open_case(s, plan.cases[0], draw=plan.draw, auditor_id=org.auditor_id, participants=[],
                          today=today, cfg=CFG)
    with db.session() as s:
        attending = set_meeting_attendance(s, draw.id, [org.participant_id, org.senior_id], "tm")
    assert [a.shown for a in attending] == ["Pat", "Sasha"]
    with db.reader() as s:
        assert [a.id for a in meeting_attendance(s, draw.id)] == [org.participant_id, org.senior_id]
        taking_part = set(s.scalars(select(AuditParticipant.person_id).where(AuditParticipant.audit_id == first.id)))
    assert {org.participant_id, org.senior_id, org.auditor_id} <= taking_part  # added to the audit already open
    with db.session() as s:
        plan = plan_for_draw(s, draw.id)
        later = next((c for c in plan.cases if c.audit_id is None), None)
        if later is not None:
            second = open_case(s, later, draw=plan.draw, auditor_id=org.auditor_id, participants=[],
                               today=today, cfg=CFG)
            assert {p.id for p in second.participants} >= {org.participant_id, org.senior_id}


def test_the_grid_holds_every_participants_grade_and_overall(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        draw = draw_cases_for_team(s, org.team_id, MONTH, today, DrawRules(), seed="c" * 32)
        plan = plan_for_draw(s, draw.id)
        audit = open_case(s, plan.cases[0], draw=plan.draw, auditor_id=org.auditor_id,
                          participants=[org.participant_id], today=today, cfg=CFG)
    with db.session() as s:
        state = set_participant_grade(s, audit.id, org.participant_id, "impact", 2, expected_version=audit.version)
        set_participant_grade(s, audit.id, org.participant_id, OVERALL, 1, expected_version=state.version)
        set_participant_grade(s, audit.id, org.senior_id, OVERALL, 3)  # grading is taking part
    with db.reader() as s:
        grid = participant_grid(s, audit.id)
        agreed = s.scalars(select(AuditGrade).where(AuditGrade.audit_id == audit.id,
                                                    AuditGrade.participant_id.is_(None))).all()
    assert [d.key for d in grid.domains][-1] == OVERALL and len(grid.domains) == 7
    assert {p.shown for p in grid.people} == {"Terry", "Pat", "Sasha"}
    assert grid.grades[(org.participant_id, "impact")] == 2
    assert grid.grades[(org.participant_id, OVERALL)] == 1
    assert grid.grades[(org.senior_id, OVERALL)] == 3
    assert agreed == []  # participants' grades never touch the agreed ones


async def test_the_grid_by_keys_from_the_meeting(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.add(Person(staff_id="S002", name="Pat Second", role="SW", team_id=org.team_id))
    with db.session() as s:
        draw_cases_for_team(s, org.team_id, MONTH, today, DrawRules(), seed="d" * 32)
    app = make_app(make_context(url_of(db), today=today, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
        await pilot.press("P")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ParticipantGridScreen"
        for name in ("Pat Advanced", "Pat Second"):
            await pilot.press("plus")
            await settle(pilot)
            options = app.screen.query_one("OptionList")
            index = next(i for i in range(options.option_count) if name in str(options.get_option_at_index(i).prompt))
            options.highlighted = index
            await pilot.press("enter")
            await settle(pilot)
        text = screen_text(app)
        assert "Attending the meeting: Pat Advanced, Pat Second" in text  # two Pats: full names
        grid = app.screen.grid
        assert [p.shown for p in grid.people] == ["Pat Advanced", "Pat Second", "Terry"]
        # Pat Advanced's row: every domain and the overall grade, one key each.
        await pilot.press("1", "2", "2", "3", "1", "2", "4")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
    with db.reader() as s:
        rows = dict(s.execute(select(AuditGrade.domain, AuditGrade.grade).where(
            AuditGrade.participant_id == org.participant_id)).all())
    assert rows == {"recording": 0, "practice": 1, "impact": 1, "outcomes": 2, "voice": 0, "oversight": 1,
                    OVERALL: 3}


def test_the_meeting_note_beside_a_grade_uses_full_names_where_first_names_clash() -> None:
    import uuid

    from qa_tui.services.audits.record import DomainGrades, ParticipantGrade, PersonName
    from screens.audits.meeting import participant_note

    pat_a, pat_b, sam = (PersonName(uuid.uuid4(), n, s) for n, s in
                         (("Pat Advanced", "A1"), ("Pat Second", "S2"), ("Sam Worker", "W1")))
    grades = DomainGrades("impact", "Impact", 1, "", (ParticipantGrade(pat_a, 1, ""), ParticipantGrade(pat_b, 2, ""),
                                                       ParticipantGrade(sam, None, "")), None)
    assert participant_note(grades) == "Pat Advanced 2, Pat Second 3"
