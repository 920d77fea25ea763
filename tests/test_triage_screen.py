"""Triage by keys: the user's team's late work, filtered by kind with one key, several actions
marked done with evidence and what changed for the child at once, one extended with a reason; the filter is remembered."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, ActionChange
from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2026, 11, 24)


@pytest.fixture
def demo_db(db: Database) -> Database:
    build_demo(db, today=TODAY, cases=400)
    return db



async def test_triage_by_keys_completes_and_extends_actions_and_remembers_the_filter(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert "Assessment Team 1" in screen_text(app) or app.screen.filters.team_id == ctx.team_id
        await pilot.press("K")  # kinds: all → overdue actions only
        await settle(pilot)
        screen = app.screen
        assert screen.filters.kinds == ("action",)
        rows = list(screen.rows)
        assert len(rows) >= 3 and all(r.kind == "action" and r.team_id == ctx.team_id for r in rows)
        assert [r.days_overdue for r in rows] == sorted((r.days_overdue for r in rows), reverse=True)
        done_ids = [rows[0].record_id, rows[1].record_id]
        await pilot.press("space", "space")  # select the two most overdue
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Checked in supervision", "enter")  # Enter moves on to what changed for the child
        await settle(pilot)
        assert not any("Marked" in str(n.message) for n in app._notifications)
        await pilot.press("enter")  # left empty: refused beside the field, the evidence kept
        await settle(pilot)
        assert "What changed for the child cannot be empty" in screen_text(app)
        await pilot.press(*"Back at school full time", "enter")
        await settle(pilot)
        assert "Marked done: 2 actions" in " ".join(str(n.message) for n in app._notifications)

        extend_id = screen.rows[0].record_id
        assert extend_id not in done_ids
        await pilot.press("e")
        await settle(pilot)
        await pilot.press(*"31/12/2026", "enter")
        await settle(pilot)
        await pilot.press(*"Waiting for the court report", "enter")
        await settle(pilot)

    with demo_db.reader() as s:
        for action_id in done_ids:
            action = s.get(Action, action_id)
            assert action.status == "done" and action.evidence == "Checked in supervision"
            assert action.child_outcome == "Back at school full time"
            assert action.completed_on == TODAY
        extended = s.get(Action, extend_id)
        assert extended.due_on == date(2026, 12, 31) and extended.status == "open"
        history = s.scalars(select(ActionChange).where(ActionChange.action_id == extend_id)).all()
        assert any(h.change == "extended" and h.reason == "Waiting for the court report" for h in history)

    again = make_app(ctx)  # the filter is remembered across sessions
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert again.screen.filters.kinds == ("action",)
        assert extend_id not in {r.record_id for r in again.screen.rows}  # no longer late
    ctx.db.dispose()


async def test_acting_on_an_action_someone_changed_since_it_was_listed_is_refused(demo_db: Database) -> None:
    from qa_tui.services.audits.actions import extend_action

    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("K")  # overdue actions only
        await settle(pilot)
        listed = app.screen.rows[0]
        with demo_db.session() as s:  # a colleague extends it meanwhile
            extend_action(s, listed.record_id, date(2027, 1, 15), "Court date moved", None, TODAY)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Done in supervision", "enter", *"Nothing yet", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedDoneDialog", "back, with why beside what was typed"
        assert "changed by someone else" in screen_text(app)
        assert app.screen.query_one("#done-evidence").value == "Done in supervision"
        assert app.screen.query_one("#done-outcome").value == "Nothing yet"
        await pilot.press("escape", "y")  # thrown away with a yes
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TriageScreen"
    with demo_db.reader() as s:
        action = s.get(Action, listed.record_id)
        assert action.status == "open" and action.due_on == date(2027, 1, 15) and action.evidence == ""
    ctx.db.dispose()


async def test_moving_down_lists_the_next_page_below_with_the_cursor_where_it_was(demo_db: Database) -> None:
    ctx = make_context(url_of(demo_db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("w", "enter")  # all teams
        await settle(pilot)
        screen = app.screen
        assert len(screen.rows) == 100 and screen.next_cursor is not None
        action = next(i for i, row in enumerate(screen.rows) if row.kind == "action")
        await pilot.press(*["down"] * action, "space")  # select it: marked, and the cursor moves on
        await settle(pilot)
        table = screen.table
        assert str(table.get_row_at(action)[0]) == "✓" and table.cursor_row == action + 1
        await pilot.press("ctrl+end")  # the last row asks for the next page
        await settle(pilot)
        assert len(screen.rows) > 100 and table.row_count == len(screen.rows)
        assert len({table.key_of(row) for row in screen.rows}) == len(screen.rows)
        assert table.cursor_row == 99 and table.current == screen.rows[99]
        assert str(table.get_row_at(action)[0]) == "✓" and screen.selected == {screen.rows[action].record_id}
    ctx.db.dispose()
