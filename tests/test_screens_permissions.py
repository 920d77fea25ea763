"""The permission rows as a person meets them in the app, on both databases: what they may not do
is greyed out and does nothing; what they may do works; a refusal is a clear line, never a
traceback. The person is whoever the database says (tests.pilot.make_context signs them in)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Audit, Person
from qa_tui.services.audits import moderation
from qa_tui.services.people.owner import bind_to_puller
from tests.permissions_seed import Council, act_as, nobody, seed_council, submitted_live_audit
from tests.pilot import SIZE, become, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)


def notes(app) -> str:  # noqa: ANN001
    return " | ".join(str(n.message) for n in app._notifications)


def _moderated_with_an_open_action(db: Database, council: Council) -> None:
    audit_id = submitted_live_audit(db, council, council.tm, TODAY)
    with db.session() as s:
        s.add(Action(audit_id=audit_id, case_id=council.case, owner_id=council.sw, team_id=council.team,
                     title="Update the chronology [today]", raised_on=TODAY, due_on=date(2026, 12, 8), status="open"))
    act_as(db, council.hos)
    with db.session() as s:
        moderation.moderate(s, audit_id, council.hos, outcome="agreed", today=TODAY)
    nobody(db)


async def _finalise_list(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)
    await pilot.press("v")  # the moderated list, to finalise
    await settle(pilot)


async def test_finalising_is_greyed_for_a_moderator_and_shows_open_actions_to_the_pi_team(db: Database) -> None:
    council = seed_council(db)
    _moderated_with_an_open_action(db, council)
    ctx = make_context(url_of(db), today=TODAY, staff_id="H001")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await _finalise_list(pilot)
        assert "1 audits" in screen_text(app)
        assert app.screen.check_action("finalise", ()) is None  # greyed in the footer
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ModerationScreen"
    ctx.db.dispose()
    ctx = make_context(url_of(db), today=TODAY, staff_id="P001")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await _finalise_list(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        shown = screen_text(app)
        assert "1 open action" in shown and "Update the chronology [today] (due 8 Dec 2026)" in shown
        await pilot.press("y")
        await settle(pilot)
        assert "Finalised." in notes(app)
    with db.reader() as s:
        assert s.scalar(select(Audit.status)) == "finalised"
    ctx.db.dispose()


async def test_people_and_teams_are_greyed_for_someone_not_an_administrator(db: Database) -> None:
    seed_council(db)
    url = url_of(db)
    if db.is_sqlite:  # a laptop pulled by the team manager: its people are the shared database's
        with db.session() as s:
            s.scalar(select(Person).where(Person.staff_id == "M001")).login = "terry"
            bind_to_puller(s, "terry")
    else:  # the team manager's login, not granted qa_tui_admin
        become(url, "M001")
    ctx = make_context(url, today=TODAY)
    assert ctx.person_name == "Terry Manager"
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", "2")  # People
        await settle(pilot)
        assert app.screen.check_action("edit", ()) is None and app.screen.check_action("new", ()) is None
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AdminScreen"
        await pilot.press("3")  # Cases stay open to everyone who may change anything
        await settle(pilot)
        assert app.screen.check_action("new", ()) is True
    ctx.db.dispose()


async def test_a_draw_for_another_team_is_refused_with_a_clear_line(db: Database) -> None:
    council = seed_council(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="M002", user_team="T1")  # Toni manages T2, not T1
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert app.screen.check_action("draw", ()) is True  # a team manager may draw for their own team
        await pilot.press("n")
        await settle(pilot)
        if app.screen.__class__.__name__ == "ConfirmDialog":
            await pilot.press("y")
            await settle(pilot)
        assert "may not draw cases or run a live audit for this team" in notes(app), notes(app)
        assert "Traceback" not in screen_text(app)
    with db.reader() as s:
        assert s.scalar(select(Audit.id)) is None
    assert council.team
