"""A head of service signs in and their dashboard, from its first figures to the whole of it,
shows their service's teams: not one team, not the whole council."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Service, Team
from qa_tui.demo import build_demo
from tests.pilot import SIZE, become, screen_text, url_of
from tests.test_first_figures import (
    app_opening_slowly,
    senior_above,
    supervision_panel,
    wait_until,
    whole_dashboard_after,
)

TODAY = date(2026, 11, 24)
TITLE = "Service: Safeguarding & Family Support — 3 teams"


def overdue_actions(db: Database, service_code: str | None) -> int:
    """Open actions past their due date in the service's teams (None: every team)."""
    stmt = select(func.count()).select_from(Action).where(Action.status == "open", Action.due_on < TODAY)
    if service_code is not None:
        stmt = stmt.where(Action.team_id.in_(select(Team.id).join(Service, Service.id == Team.service_id)
                                             .where(Service.code == service_code)))
    with db.reader() as s:
        return s.scalar(stmt)


async def test_a_head_of_service_sees_their_services_teams(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    build_demo(db, today=TODAY, cases=400)
    with db.reader() as s:
        hos = senior_above(s, "FST1", "HOS")
    url = url_of(db)
    become(url, hos)
    service, council = overdue_actions(db, "SFS"), overdue_actions(db, None)
    assert 0 < service < council  # the service's figures are not the council's
    app, opening = app_opening_slowly(url, monkeypatch)  # the first figures can be seen alone
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen"
                         and "Waiting for moderation" in screen_text(app))
        assert not app.ready
        first = screen_text(app)
        assert TITLE in first and f"{service} open actions past their due date" in first
        await whole_dashboard_after(pilot, opening)
        whole = screen_text(app)
        assert TITLE in whole and f"{service} open actions past their due date" in whole
        assert "due within 7 days" in supervision_panel(app)  # the whole dashboard, not the first figures
    app.ctx.db.dispose()
