"""The first frame and the first figures: the dashboard's numbers read through the driver, before
SQLAlchemy's ORM and the models load, agree with the full dashboard's; the app shows them while the
database is still opening, answers keys meanwhile, and fills in the rest once it has opened."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import pytest

from qa_tui.app import QAApp
from qa_tui.config import load_config
from qa_tui.db.engine import Database
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.programme.dashboard import build_dashboard
from qa_tui.services.programme.dashboard_figures import Dashboard, read_first_figures
from tests.pilot import SIZE, become, screen_text, settle, url_of
from tests.test_app_shell import seed_team

TODAY = date(2026, 11, 24)
# What the first figures leave to the full dashboard (shown as "…" until it arrives).
LATER = {"moderation_late", "supervisions_overdue", "supervisions_due_soon", "supervision_lines",
         "escalated_to_me", "escalations_to_answer", "complete"}


def shared(d: Dashboard) -> dict[str, object]:
    return {f.name: getattr(d, f.name) for f in fields(d) if f.name not in LATER}


def senior_above(session, team_code: str, role: str) -> str:  # noqa: ANN001
    """The staff ID of the first person with `role` above the manager of the demo team `team_code`."""
    from sqlalchemy import select

    from qa_tui.db.models import Person, Team

    person = session.scalar(select(Person).join(Team, Team.id == Person.team_id)
                            .where(Team.code == team_code, Person.role == "TM"))
    while person.role != role:
        person = session.get(Person, person.manager_id)
    return person.staff_id


@pytest.mark.parametrize(("who", "team_code", "title"), [
    ("TM", "", "Assessment Team 1"), ("TM", "AST2", "Assessment Team 2"),
    ("HOS", "", "Service: Safeguarding & Family Support — 3 teams"),
    ("OPS", "", "Service: Safeguarding & Family Support — 3 teams"),
    ("AD", "", "4 services — 10 teams"),
])
def test_first_figures_agree_with_the_full_dashboard(db: Database, who: str, team_code: str, title: str) -> None:
    """The first figures cover the same teams as the whole dashboard: a team manager's team (or
    the team the config names), a senior manager's teams under them in the line management."""
    build_demo(db, today=TODAY, cases=400)
    url = url_of(db)
    with db.reader() as s:
        staff_id = DEMO_USER_STAFF_ID if who == "TM" else senior_above(s, "FST1", who)
    become(url, staff_id)
    config = replace(load_config(db_override=url), user_team=team_code)
    first = read_first_figures(config, TODAY)
    assert first is not None and not first.dashboard.complete
    assert first.role == who
    with db.reader() as s:
        from sqlalchemy import select

        from qa_tui.db.models import Person

        person_id = s.scalar(select(Person.id).where(Person.staff_id == staff_id))
        full = build_dashboard(s, today=TODAY, config=config, person_id=person_id)
    assert shared(first.dashboard) == shared(full)
    assert first.dashboard.overdue_actions > 0 and first.dashboard.overdue_action_lines  # the demo has late work
    assert first.dashboard.team_name == title


def test_first_figures_for_nobody_are_the_whole_councils(db: Database) -> None:
    """A database whose user is linked to no one (no owner named yet): every team's figures."""
    build_demo(db, today=TODAY, cases=200)
    url = url_of(db)
    if db.is_sqlite:
        with db.session() as s:
            s.execute(__import__("sqlalchemy").text("DELETE FROM sync_state WHERE key LIKE 'owner%'"))
    first = read_first_figures(load_config(db_override=url), TODAY)
    assert first is not None and first.role == ""
    with db.reader() as s:
        full = build_dashboard(s, today=TODAY, config=load_config(db_override=url))
    assert full.team_name == "All teams" and shared(first.dashboard) == shared(full)


def test_no_first_figures_where_the_quick_path_cannot_read(tmp_path: Path) -> None:
    """A missing file is not created (the full path asks first); an encrypted file, a database
    not migrated, and an unreachable server leave the figures to the full path."""
    missing = tmp_path / "nowhere" / "qa.sqlite3"
    assert read_first_figures(load_config(db_override=f"sqlite:///{missing}"), TODAY) is None
    assert not missing.exists() and not missing.parent.exists()
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert read_first_figures(load_config(db_override=f"sqlite:///{empty}"), TODAY) is None
    assert empty.stat().st_size == 0
    assert read_first_figures(load_config(db_override=f"sqlite+pysqlcipher:///{empty}"), TODAY) is None
    assert read_first_figures(load_config(db_override="postgresql+psycopg://nobody@127.0.0.1:1/none"), TODAY) is None


def test_the_first_figures_load_no_sqlalchemy() -> None:
    code = ("import sys\nfrom datetime import date\nfrom qa_tui.config import load_config\n"
            "from qa_tui.services.programme.dashboard_figures import read_first_figures\n"
            "read_first_figures(load_config(db_override='sqlite:////nonexistent/qa.sqlite3'), date(2026, 11, 24))\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'textual'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def supervision_panel(app: QAApp) -> str:
    return str(app.screen.query_one("#panel-supervision").render())


async def wait_until(pilot, condition) -> None:  # noqa: ANN001
    """Let the app run until `condition()` holds (a bounded number of turns, not a clock)."""
    for _ in range(400):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never got there")


def app_opening_slowly(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[QAApp, threading.Event]:
    """The app on `url`, its database (the ORM path) opening only once the event is set."""
    import qa_tui.context

    opening = threading.Event()
    real_open = qa_tui.context.open_context

    def held_open(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - held until the test lets it go
        opening.wait(timeout=60)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(qa_tui.context, "open_context", held_open)
    return QAApp(load_config(db_override=url), today=TODAY), opening


def team_manager_opening_slowly(db: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[QAApp, threading.Event]:
    seed_team(db)
    url = url_of(db)
    become(url, "TM1")
    return app_opening_slowly(url, monkeypatch)


async def whole_dashboard_after(pilot, opening: threading.Event) -> None:  # noqa: ANN001
    """Let the database open, and wait for the whole dashboard."""
    opening.set()
    await settle(pilot)
    await wait_until(pilot, lambda: pilot.app.ready)
    await settle(pilot)
    assert pilot.app.screen.__class__.__name__ == "DashboardScreen"


async def first_figures_shown(pilot) -> None:  # noqa: ANN001
    app = pilot.app
    await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen"
                     and "Update the chronology" in screen_text(app))
    assert not app.ready


async def test_the_dashboard_shows_first_figures_and_answers_keys_while_the_database_opens(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    app, opening = team_manager_opening_slowly(db, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await first_figures_shown(pilot)
        text = screen_text(app)
        assert "Assessment Team 1" in text and "32d" in text and "Waiting for moderation" in text
        assert supervision_panel(app) == "…"  # supervisions come with the full dashboard
        await pilot.press("question_mark")  # help needs no database: it opens at once
        await wait_until(pilot, lambda: "Areas" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen")
        await pilot.press("t", "j")  # an area's key waits for the database, and what follows it
        for _ in range(10):
            await pilot.pause(0.02)
        assert not app.ready and app.screen.__class__.__name__ == "DashboardScreen"
        opening.set()
        await settle(pilot)
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "TriageScreen")
        assert app.ready  # the key typed while it opened, not dropped


async def test_the_whole_dashboard_follows_the_first_figures(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    app, opening = team_manager_opening_slowly(db, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await first_figures_shown(pilot)
        await whole_dashboard_after(pilot, opening)
        text = screen_text(app)
        assert "Robin Ash" in supervision_panel(app) and "Update the chronology" in text  # the whole dashboard
    app.ctx.db.dispose()
