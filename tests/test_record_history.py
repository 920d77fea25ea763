"""A record's history from the audit trail: who changed what, when, old → new, with people named,
for an audit (its grades and moderations too), an action (its extensions with reasons), an
observation and a person; and the history screen reached by h."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Person
from qa_tui.errors import NotFound
from qa_tui.services.audits import moderation
from qa_tui.services.audits import record as audits
from qa_tui.services.audits.actions import add_action, extend_action
from qa_tui.services.history.record_history import actor_name, record_history
from tests.permissions_seed import act_as, nobody
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_audits import CFG, grade_everything, seed_org, start


def as_person(db: Database, staff_id: str) -> Database:
    """The same database, written as the person with this staff ID's login."""
    with db.session() as s:
        person = s.scalar(select(Person).where(Person.staff_id == staff_id))
        person.login = f"login_{staff_id.lower()}"
    return Database.open(db.engine.url.render_as_string(hide_password=False), actor=f"login_{staff_id.lower()}")


def test_an_audits_history_names_who_changed_each_grade_old_to_new(db: Database, today: date) -> None:
    org = seed_org(db)
    auditor_db = as_person(db, "M001")
    try:
        dto = start(auditor_db, org, today)
        grade_everything(auditor_db, dto.id, {"impact": 1})
        with auditor_db.session() as s:
            audits.set_grade(s, dto.id, "impact", 2)
            audits.set_text(s, dto.id, "strengths", "Clear [b]plan[/b]")
            audits.submit_for_moderation(s, dto.id, today)
    finally:
        auditor_db.dispose()
    with db.session() as s:
        moderation.moderate(s, dto.id, org.moderator_id, outcome="returned", comment="Say why", today=today)
    with db.reader() as s:
        history = record_history(s, "audit", dto.id)
    assert history.title == "Audit of CASE-0001 on 10 Nov 2026"
    impact = [r for r in history.rows if r.what == "changed grade: Impact" and r.field == "grade"]
    assert [(r.who, r.old, r.new) for r in impact] == [
        ("Terry Manager (M001)", "2 Good", "3 Requires improvement to be good")]
    strengths = next(r for r in history.rows if r.field == "strengths")
    assert (strengths.old, strengths.new) == ("—", "Clear [b]plan[/b]")
    status = [(r.old, r.new) for r in history.rows if r.field == "status"]
    assert status == [("draft", "submitted"), ("submitted", "draft")]
    returned = next(r for r in history.rows if r.what == "created moderation")
    assert "outcome: returned" in returned.new and "comment: Say why" in returned.new
    assert returned.who == "tester"  # an actor no person is known by shows as recorded
    assert [r.at for r in history.rows] == sorted(r.at for r in history.rows)


def test_an_actions_history_shows_its_extensions_with_the_reason_and_who(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        row = add_action(s, title="Update the plan", owner_id=org.worker_id, raised_by_id=org.auditor_id,
                         today=today, cfg=CFG)
    with db.session() as s:
        extend_action(s, row.id, today + timedelta(days=40), "Waiting for the [i]conference[/i]",
                      org.auditor_id, today)
    with db.reader() as s:
        history = record_history(s, "action", row.id)
        assert actor_name(s, "M001") == "Terry Manager (M001)"
    assert history.title == "Action: Update the plan"
    extended = next(r for r in history.rows if r.what == "extended")
    assert extended.who == "Terry Manager (M001)"
    assert extended.detail == "Waiting for the [i]conference[/i]"
    created = history.rows[0]
    assert created.what == "created" and created.who == "tester"
    due = next(r for r in history.rows if r.field == "due_on")
    assert due.new == (today + timedelta(days=40)).isoformat()


def test_a_persons_history_names_the_new_team_and_manager(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        s.get(Person, org.worker_id).team_id = org.other_team_id
        s.get(Person, org.worker_id).manager_id = org.auditor_id
    with db.reader() as s:
        history = record_history(s, "person", org.worker_id)
        with pytest.raises(NotFound):
            record_history(s, "case", org.worker_id)
        with pytest.raises(NotFound):
            record_history(s, "action", org.worker_id)
    assert history.title == "Sam Worker (W001)"
    changed = {r.field: (r.old, r.new) for r in history.rows if r.what == "changed"}
    assert changed["team_id"] == ("Assessment 1", "Family support 2")
    assert changed["manager_id"] == ("—", "Terry Manager (M001)")


def test_history_names_the_person_each_event_recorded_as_they_were_then(db: Database, today: date) -> None:
    org = seed_org(db)
    act_as(db, org.auditor_id, login="shared_login")  # a login no person is linked to by name
    try:
        with db.session() as s:
            s.get(Person, org.worker_id).manager_id = org.auditor_id
    finally:
        nobody(db)
    with db.session() as s:
        s.get(Person, org.auditor_id).name = "Terry [Smith]"
    with db.reader() as s:
        history = record_history(s, "person", org.worker_id)
        renamed = record_history(s, "person", org.auditor_id)
    manager = next(r for r in history.rows if r.field == "manager_id")
    assert manager.who == "Terry Manager (M001)"  # the name the event carries, not today's
    assert manager.new == "Terry [Smith] (M001)"  # a value names the person as they are now
    name = next(r for r in renamed.rows if r.field == "name")
    assert (name.who, name.old, name.new) == ("tester", "Terry Manager", "Terry [Smith]")  # nobody: the actor


async def test_h_in_triage_shows_the_history_of_an_overdue_action(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        row = add_action(s, title="Chase [the] GP", owner_id=org.worker_id, raised_by_id=org.auditor_id,
                         due_on=today, team_id=org.team_id, today=today, cfg=CFG)
    with db.session() as s:
        extend_action(s, row.id, today + timedelta(days=1), "GP on leave", org.auditor_id, today)
    later = today + timedelta(days=10)
    with db.session() as s:
        assert s.get(Action, row.id).due_on < later
    app = make_app(make_context(url_of(db), today=later, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        triage = app.screen.query_one("#triage-table")
        triage.select(next(r for r in triage.records if r.kind == "action"))
        await pilot.press("h")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        text = screen_text(app)
        assert "History · Action: Chase [the] GP" in text
        table = app.screen.query_one("#td-table")
        whats = [r.what for r in table.records]
        assert "extended" in whats and whats[0] == "created"
        table.move_cursor(row=whats.index("extended"))
        await settle(pilot)
        assert "Reason: GP on leave" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TriageScreen"


def test_an_audits_history_holds_its_actions_extensions(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        row = add_action(s, title="Visit [weekly]", owner_id=org.worker_id, raised_by_id=org.auditor_id,
                         audit_id=dto.id, today=today, cfg=CFG)
    with db.session() as s:
        extend_action(s, row.id, today + timedelta(days=50), "School holidays", org.auditor_id, today)
    with db.reader() as s:
        history = record_history(s, "audit", dto.id)
    extended = next(r for r in history.rows if r.what == "extended action: Visit [weekly]")
    assert (extended.who, extended.detail) == ("Terry Manager (M001)", "School holidays")
    assert any(r.what == "created action" and "title: Visit [weekly]" in r.new for r in history.rows)


def test_a_participants_own_grade_is_named_in_the_audits_history(db: Database, today: date) -> None:
    from qa_tui.services.audits.participants import OVERALL, set_participant_grade

    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        set_participant_grade(s, dto.id, org.participant_id, "voice", 1)
        set_participant_grade(s, dto.id, org.participant_id, OVERALL, 2)
    with db.reader() as s:
        whats = [r.what for r in record_history(s, "audit", dto.id).rows]
    assert "created grade: Voice of the child (Pat Advanced's own)" in whats
    assert "created grade: Overall (Pat Advanced's own)" in whats


async def test_f2_on_an_observation_and_shift_h_on_a_person_show_their_history(db: Database, today: date) -> None:
    from qa_tui.services.practice.observations import record_observation, update_observation_field
    from screens.practice.observations import ObservationFormScreen

    org = seed_org(db)
    with db.session() as s:
        obs = record_observation(s, observer_id=org.auditor_id, worker_id=org.worker_id, observed_on=today,
                                 kind="annual", setting="Home", today=today)
    with db.session() as s:
        update_observation_field(s, obs.id, "setting", "School [visit]", today=today)
        s.get(Person, org.worker_id).team_id = org.other_team_id
    app = make_app(make_context(url_of(db), today=today, staff_id="M001"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ObservationFormScreen(observation_id=obs.id))
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        rows = app.screen.table.records
        assert [(r.old, r.new) for r in rows if r.field == "setting"] == [("Home", "School [visit]")]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationFormScreen"
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("a")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        people = app.screen.query_one("#people-table")
        people.select(next(r for r in people.records if r.staff_id == "W001"))
        await pilot.press("H")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HistoryScreen"
        assert "Sam Worker (W001)" in screen_text(app)
        assert [(r.old, r.new) for r in app.screen.table.records if r.field == "team_id"] == [
            ("Assessment 1", "Family support 2")]
