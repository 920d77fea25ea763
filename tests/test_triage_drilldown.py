"""Triage answers "how many" and "how late" directly, x goes back to the user's own scope, and
every compliance rate opens onto the people (and cases) behind it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, TabbedContent

from qa_tui.config import load_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Person
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from qa_tui.services.programme.compliance import compliance
from qa_tui.services.programme.compliance_detail import people_behind
from qa_tui.services.programme.triage import TriageFilters, triage_counts
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=TODAY, cases=400)
    return db


def test_the_people_behind_a_rate_are_the_ones_it_counts(demo_db: Database) -> None:
    cfg = load_config()
    with demo_db.reader() as s:
        comp = compliance(s, TODAY, cfg, group_by="team")
        for row in [r for r in comp.rows if r.people_late][:3] + list(comp.totals[:2]):
            behind = people_behind(s, TODAY, cfg, group_by="team", group=row.group, task=row.task,
                                   frequency=row.frequency)
            late = {b.person_id for b in behind if b.status == "late"}
            assert len(late) == row.people_late, row
            assert {b.task_label for b in behind} <= ({row.task_label} if row.task else {b.task_label for b in behind})
            assert [b.status for b in behind] == sorted((b.status for b in behind),
                                                        key={"late": 0, "due": 1, "met": 2}.get)
        by_role = compliance(s, TODAY, cfg, group_by="role").totals[0]
        behind = people_behind(s, TODAY, cfg, group_by="role", group=by_role.group)
        assert behind and len({b.person_id for b in behind if b.status == "late"}) == by_role.people_late


async def test_triage_counts_takes_typed_days_and_x_returns_to_my_team(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        with demo_db.reader() as s:
            expected = sum(triage_counts(s, TODAY, ctx.config, screen.filters).values())
        assert screen.total == expected and f"{expected} in all ·" in screen_text(app)

        await pilot.press("g")
        await settle(pilot)
        await pilot.press("ctrl+a", "ctrl+k", *"1[4]", "enter")  # a typing slip: refused, kept
        await settle(pilot)
        assert "is not a whole number" in screen_text(app)
        assert app.screen.query_one("#prompt-input", Input).value == "1[4]"
        await pilot.press("ctrl+a", "ctrl+k", *"14", "enter")
        await settle(pilot)
        assert screen.filters.min_days_overdue == 14
        assert all(r.days_overdue >= 14 for r in screen.rows)
        assert "≥14 days late" in screen_text(app)

        screen.filters = TriageFilters(team_id=None, kinds=("action",), min_days_overdue=14)
        await pilot.press("x")
        await settle(pilot)
        assert screen.filters == TriageFilters(team_id=ctx.team_id)
        assert screen.rows and all(r.team_id == ctx.team_id for r in screen.rows)


async def test_enter_on_a_compliance_rate_lists_the_people_behind_it(demo_db: Database) -> None:
    with demo_db.reader() as s:
        head = s.scalars(select(Person.staff_id).where(Person.role == "HOS").order_by(Person.staff_id)).first()
    app = make_app(make_context(url_of(demo_db), today=TODAY, staff_id=head))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "tab-compliance"
        await settle(pilot)
        table = app.screen.query_one("#compliance-table", DataTable)
        table.focus()
        totals = app.screen.compliance_by["team"].totals
        await pilot.press("down", "enter")  # the first team's first task
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ComplianceDetailScreen"
        rows = app.screen.table.records
        assert rows and all(r.team == totals[0].group_label for r in rows)
        text = screen_text(app)
        assert f"{totals[0].group_label}: " in text and "obligations" in text
        assert rows[0].person in text  # the highlighted person in full below
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ReportsScreen"
        await pilot.press("w")  # the same from the footer's key
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ComplianceDetailScreen" and app.screen.table.records
