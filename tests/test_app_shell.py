"""The app shell: opens on the dashboard with real numbers, help and palette by keyboard, and a
clear message (never a traceback) when the database cannot be reached."""

from __future__ import annotations

from datetime import date, timedelta

from qa_tui.app import QAApp
from qa_tui.config import load_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Person, Service, Team
from tests.pilot import SIZE, make_app, make_context, screen_text, settle

TODAY = date(2026, 11, 24)


def seed_team(db: Database) -> None:
    with db.session() as s:
        service = Service(code="CS", name="Children's Services")
        team = Team(code="A1", name="Assessment Team 1", service=service)
        s.add_all([service, team])
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id)
        sw = Person(staff_id="SW1", name="Robin Ash", role="SW", team_id=team.id, active_from=date(2025, 1, 1))
        s.add_all([tm, sw])
        s.flush()
        s.add(Action(title="Update the chronology", owner_id=sw.id, team_id=team.id, raised_by_id=tm.id,
                     raised_on=TODAY - timedelta(days=60), due_on=TODAY - timedelta(days=32)))


async def test_opens_on_dashboard_with_real_numbers_then_help_and_back(db: Database) -> None:
    seed_team(db)
    ctx = make_context(str(db.engine.url.render_as_string(hide_password=False)), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Assessment Team 1" in text
        assert "Update the chronology" in text and "32d" in text
        assert "Robin Ash" in text  # never supervised: overdue
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Areas" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
    ctx.db.dispose()


async def test_unreachable_database_shows_one_clear_message_and_quits_cleanly() -> None:
    config = load_config(db_override="postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = QAApp(config, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DatabaseErrorScreen"
        text = screen_text(app)
        assert "cannot be reached" in text and "Traceback" not in text
        await pilot.press("q")
    assert app.return_code in (0, None)
