"""The one audit editor, in the live meeting and in the audit form of another kind: grades by key,
keys typed in a burst going where the user meant, a refusal shown with nothing lost, and grades
kept through a database outage until Retry stores them all."""

from __future__ import annotations

import itertools
import uuid
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from textual import events
from textual.widgets import Static

from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade, Person
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.audits import record
from qa_tui.services.audits.kinds import start_supervision_file_audit
from screens.audits.audit_form import AuditFormScreen
from screens.audits.editor import AuditEditor
from screens.errors import DatabaseErrorScreen
from tests.pilot import SIZE, make_app, make_context, settle, url_of

BUILT_ON = date(2026, 11, 24)
MEETING_DAY = date(2026, 12, 3)  # a month the demo has not drawn yet


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=BUILT_ON, cases=400)
    return db


async def burst(pilot, keys: list[str]) -> None:  # noqa: ANN001
    """Keys arriving faster than the app handles them: all queued before the first is handled."""
    for key in keys:
        character = {"space": " "}.get(key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, character))
    await settle(pilot)


def typed(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


def status(editor: AuditEditor) -> str:
    return str(editor.query_one("#af-status", Static).render())


async def open_meeting(pilot) -> AuditEditor:  # noqa: ANN001
    await settle(pilot)
    for key in ("l", "n", "y", "enter"):  # draw this month's cases and open the first
        await pilot.press(key)
        await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "MeetingScreen"
    return pilot.app.screen.query_one(AuditEditor)


def agreed_grades(db: Database, audit_id: uuid.UUID) -> dict[str, int | None]:
    with db.reader() as s:
        return dict(s.execute(select(AuditGrade.domain, AuditGrade.grade).where(
            AuditGrade.audit_id == audit_id, AuditGrade.participant_id.is_(None))).all())


async def test_meeting_grades_and_text_by_keys_typed_in_a_burst(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        # Grades, a jump to a field and text, Esc, another field: a projector-room typist's burst.
        await burst(pilot, ["2", "3", "w", *typed("warm and"), "escape", "i", *typed("gaps"), "escape", "1"])
        assert editor.area("strengths").text == "warm and"
        assert editor.area("to_improve").text == "gaps"
        # w puts the cursor after what is already there: typing adds to it.
        await burst(pilot, ["w", *typed(" kind"), "escape"])
        assert editor.area("strengths").text == "warm and kind"
        await settle(pilot)
        assert status(editor).startswith("Saved"), status(editor)
        audit_id = editor.audit.id
    assert agreed_grades(demo_db, audit_id) == {"recording": 1, "practice": 2, "impact": 0}
    with demo_db.reader() as s:
        audit = s.get(Audit, audit_id)
        assert (audit.strengths, audit.to_improve) == ("warm and kind", "gaps")


async def test_supervision_file_form_grades_by_keys_in_the_same_editor(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    with demo_db.session() as s:
        worker = s.scalar(select(Person).where(Person.role == "SW").order_by(Person.staff_id))
        me = s.scalar(select(Person).where(Person.staff_id == DEMO_USER_STAFF_ID))
        audit_id = start_supervision_file_audit(s, worker.id, me.id, today=MEETING_DAY, cfg=ctx.config).id
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AuditFormScreen(audit_id))
        await settle(pilot)
        editor = app.screen.query_one(AuditEditor)
        assert not editor.area("lived_experience").display  # a supervision file has no child
        # Five domains then the overall grade; c has no field to go to, so it types nothing anywhere.
        await burst(pilot, ["2", "2", "3", "1", "2", "2", "c", "w", *typed("regular"), "escape"])
        assert editor.area("strengths").text == "regular"
        assert status(editor).startswith("Saved") and "5 of 5 graded" in status(editor), status(editor)
        await pilot.press("escape")  # leaves once everything is saved
        await settle(pilot)
        assert not isinstance(app.screen, AuditFormScreen)
    assert agreed_grades(demo_db, audit_id) == {"regularity": 1, "reflection": 1, "actions": 2, "oversight": 0,
                                                "wellbeing": 1}
    with demo_db.reader() as s:
        audit = s.get(Audit, audit_id)
        assert (audit.overall_grade, audit.strengths, audit.lived_experience) == (1, "regular", "")


async def test_refused_submission_in_the_meeting_is_shown_and_nothing_is_lost(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        await burst(pilot, ["2", "3", "w", *typed("kept as typed"), "escape"])
        await pilot.press("u")  # two of six domains graded: the service refuses to send it
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        line = status(editor)
        assert "Not done" in line and "no agreed grade yet" in line, line
        assert editor.area("strengths").text == "kept as typed"
        assert editor.audit.status == "draft"
        await pilot.press("3")  # the queue carries on after the refusal
        await settle(pilot)
        assert status(editor).startswith("Saved"), status(editor)
        audit_id = editor.audit.id
    assert agreed_grades(demo_db, audit_id) == {"recording": 1, "practice": 2, "impact": 2}
    with demo_db.reader() as s:
        audit = s.get(Audit, audit_id)
        assert (audit.status, audit.strengths) == ("draft", "kept as typed")


async def test_a_text_change_the_person_may_not_make_shows_refused_and_stays_on_screen(
        demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa_tui.errors import NotAllowed

    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    sent: list[str] = []

    def refused(session, audit_id, field, value, **kwargs):  # noqa: ANN001, ANN202
        sent.append(value)
        raise NotAllowed("Morgan may not change this audit: ask its auditor.")

    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        monkeypatch.setattr(record, "set_text", refused)
        await burst(pilot, ["w", *typed("my [own] words"), "escape"])
        line = status(editor)
        assert line.startswith("Not saved: Morgan may not change this audit: ask its auditor."), line
        assert "kept on screen" in line, line
        assert editor.area("strengths").text == "my [own] words"
        assert not editor.saves.failed and editor.saves.idle and sent == ["my [own] words"]  # refused once, not retried
        assert app.screen.__class__.__name__ == "MeetingScreen"  # a line, not a dialog in the way
        audit_id = editor.audit.id
    with demo_db.reader() as s:
        assert s.get(Audit, audit_id).strengths == ""


async def test_three_grades_made_while_the_database_fails_are_all_stored_on_retry(
        demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    calls = itertools.count(1)
    sent: list[str] = []
    real_set_grade = record.set_grade

    def set_grade_failing_three_times(session, audit_id, domain, grade, **kwargs):  # noqa: ANN001, ANN202
        sent.append(domain)
        if next(calls) <= 3:
            raise OperationalError("UPDATE audit_grade", {}, ConnectionRefusedError("server closed the connection"))
        return real_set_grade(session, audit_id, domain, grade, **kwargs)

    def dialogs() -> int:
        return sum(isinstance(s, DatabaseErrorScreen) for s in app.screen_stack)

    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        monkeypatch.setattr(record, "set_grade", set_grade_failing_three_times)
        for waiting, key in enumerate(["1", "2", "3"], start=1):
            await pilot.press(key)  # a new grade resends the ones waiting first: they fail again
            await settle(pilot)
            assert dialogs() == 0, "no dialog to take the next grade: the status line says it"
            assert status(editor).startswith(f"Not saved: {waiting} change"), status(editor)
        assert [row.grade for row in editor.grades.rows[:3]] == [0, 1, 2]  # shown as given
        assert agreed_grades(demo_db, editor.audit.id) == {}

        for _ in range(40):  # the database is back: the queue tries again by itself, every grade in order
            await pilot.pause(0.25)
            if not editor.saves.waiting:
                break
        await settle(pilot)
        assert dialogs() == 0
        assert status(editor).startswith("Saved"), status(editor)
        audit_id = editor.audit.id
    assert sent == ["recording"] * 3 + ["recording", "practice", "impact"]
    assert agreed_grades(demo_db, audit_id) == {"recording": 0, "practice": 1, "impact": 2}


async def test_leaving_with_unsaved_changes_asks_first(demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)

    def unreachable(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OperationalError("UPDATE audit", {}, ConnectionRefusedError("server closed the connection"))

    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        monkeypatch.setattr(record, "set_text", unreachable)
        await burst(pilot, ["w", *typed("not stored"), "escape"])
        await settle(pilot)
        await pilot.press("escape")  # leave the meeting: asked first, and "keep editing" stays
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
        assert editor.area("strengths").text == "not stored"
        assert status(editor).startswith("Not saved: 1 change waiting"), status(editor)
        await pilot.press("escape")  # "leave without them" asks again, and n keeps them
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen" and editor.saves.waiting == 1
        await pilot.press("escape")  # "save them" with the database still away: stays, nothing lost
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen" and editor.saves.waiting == 1
        await pilot.press("escape")  # and leaving without them, confirmed, throws them away
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.__class__.__name__ != "MeetingScreen"
        assert not editor.saves.journal.entries


async def test_keys_typed_straight_after_c_or_escape_land_where_they_were_meant(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        # c then "1 child": the text goes to the child's experience, not a grade and commands.
        await burst(pilot, ["c", *typed("1 child, d [dad] quiet")])
        assert editor.area("lived_experience").text == "1 child, d [dad] quiet"
        assert app.screen.__class__.__name__ == "MeetingScreen", "area letters typed, not obeyed"
        assert all(row.grade is None for row in editor.grades.rows)
        # Esc then a letter: the letter never types into the field it left.
        await burst(pilot, ["escape", "x", "2"])
        assert editor.area("lived_experience").text == "1 child, d [dad] quiet"
        assert editor.grades.rows[0].grade == 1, "the key after Esc went to the grades"
        # c again: the cursor is at the end, so typing adds to what is there.
        await burst(pilot, ["c", *typed(" today"), "escape"])
        assert editor.area("lived_experience").text == "1 child, d [dad] quiet today"
        await settle(pilot)
        assert status(editor).startswith("Saved"), status(editor)
        audit_id = editor.audit.id
    with demo_db.reader() as s:
        assert s.get(Audit, audit_id).lived_experience == "1 child, d [dad] quiet today"
    assert agreed_grades(demo_db, audit_id) == {"recording": 1}


async def test_an_action_title_typed_straight_after_a_lands_in_the_action_dialog(demo_db: Database) -> None:
    from textual.widgets import Input

    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        await burst(pilot, ["a", *typed("Visit dad [weekly]")])  # i, d and w typed, not obeyed
        assert app.screen.__class__.__name__ == "DraftedActionDialog"
        assert app.screen.query_one("#action-title", Input).value == "Visit dad [weekly]"
        assert editor.area("to_improve").text == "" and editor.area("strengths").text == ""


async def test_a_conflict_shows_both_versions_and_neither_text_is_lost(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        audit_id = editor.audit.id
        with demo_db.session() as s:  # another person, in their own app, saves the same field first
            version = s.get(Audit, audit_id).version
            record.set_text(s, audit_id, "strengths", "Theirs: [calm] home", expected_version=version)
        await burst(pilot, ["w", *typed("Mine: warm"), "escape"])
        assert app.screen.__class__.__name__ == "ConflictDialog"
        sides = [str(w.render()) for w in app.screen.query(".side")]
        assert sides == ["Mine: warm", "Theirs: [calm] home"], sides
        await pilot.press("escape")  # later? asked first; n goes back to the choice
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("e")  # both texts in the field, to edit into one
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MeetingScreen"
        assert editor.area("strengths").text == "Mine: warm\n\nTheirs: [calm] home"
        await burst(pilot, [*typed(" and safe"), "escape"])
        await settle(pilot)
        assert status(editor).startswith("Saved"), status(editor)
    with demo_db.reader() as s:
        assert s.get(Audit, audit_id).strengths == "Mine: warm\n\nTheirs: [calm] home and safe"
