"""The other-audits screen as panes: each kind answers only its own keys, the closure queue shows
the service's window and overdue status, names are shown as typed, every key has an id and a
tooltip, and opening a support plan writes nothing until the review key is pressed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from textual.binding import Binding
from textual.widgets import DataTable

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent, Case, FollowUp
from qa_tui.services.audits.themes import create_theme
from qa_tui.services.practice.celebration import mark_good_practice
from qa_tui.services.practice.followups import tick_discussed
from qa_tui.services.practice.supervision import record_supervision, supervision_agenda
from qa_tui.services.practice.support import record_support_plan
from screens.audits.other_audits import AuditsOtherScreen
from screens.audits.support_plan import SupportPlanScreen
from screens.audits.theme import PeopleSelection, ThemeScreen
from tests.kinds_seed import Org, seed_org
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def column(pilot, selector: str, index: int = 0) -> list[str]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def shown_keys(pilot) -> set[str]:
    """The keys the footer offers now (enabled or greyed out)."""
    return {key for key, active in pilot.app.screen.active_bindings.items() if active.binding.show}


def trail_rows(db: Database) -> tuple[int, int]:
    with db.reader() as s:
        return (s.scalar(select(func.count()).select_from(AuditEvent)),
                s.scalar(select(func.count()).select_from(FollowUp)))


@pytest.mark.parametrize("screen", [AuditsOtherScreen, ThemeScreen, SupportPlanScreen, PeopleSelection])
def test_every_key_has_an_id_and_a_tooltip(screen: type) -> None:
    bindings = [b for b in screen.BINDINGS if isinstance(b, Binding)]
    assert bindings
    for binding in bindings:
        assert binding.id and binding.tooltip, binding
    assert len({b.id for b in bindings}) == len(bindings)


@SQLITE_ONLY
async def test_each_pane_answers_only_its_own_keys_and_the_closure_window_is_the_services(
        db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        s.get(Case, org.cases["C-003"]).closed_on = today - timedelta(days=40)  # due 12 days ago
    ctx = make_context(url_of(db), today=today, staff_id="OPS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert {"n", "e"} <= shown_keys(pilot) and not {"v", "left_square_bracket"} & shown_keys(pilot)

        await pilot.press("3")
        await settle(pilot)
        assert "v" in shown_keys(pilot) and not {"n", "e"} & shown_keys(pilot)
        text = screen_text(pilot.app)
        assert "Closure and transfer · yours · 2 shown" in text and "in the last 12 months" in text
        assert dict(zip(column(pilot, "#ao-closure"), column(pilot, "#ao-closure", 6), strict=True)) == {
            "C-003": "overdue", "C-007": "due"}
        await pilot.press("n")  # not a key of this pane: nothing opens
        await settle(pilot)
        assert isinstance(pilot.app.screen, AuditsOtherScreen)
        await pilot.press("v")
        await settle(pilot)
        assert "Closure and transfer · everyone's · 2 shown" in screen_text(pilot.app)

        await pilot.press("6")
        await settle(pilot)
        assert {"left_square_bracket", "right_square_bracket", "e"} <= shown_keys(pilot) and "v" not in shown_keys(pilot)
        before = screen_text(pilot.app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "Good practice ·" in screen_text(pilot.app) and screen_text(pilot.app) != before


@SQLITE_ONLY
async def test_names_are_shown_as_typed(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        create_theme(s, name="Neglect [b]under-fives[/b]", requested_by="[red]Board[/]", today=today,
                     cfg=parse_config({}))
    ctx = make_context(url_of(db), today=today, staff_id="HOS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert column(pilot, "#ao-themed") == ["Neglect [b]under-fives[/b]"]
        assert column(pilot, "#ao-themed", 1) == ["[red]Board[/]"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ThemeScreen)
        assert "Neglect [b]under-fives[/b] · themed audit · requested by [red]Board[/]" in screen_text(pilot.app)


async def test_opening_a_support_plan_writes_nothing_and_the_review_is_its_own_key(
        db: Database, org: Org, today: date) -> None:
    robin, tam = org.people["swa"], org.people["tmn1"]
    with db.session() as s:
        record_support_plan(s, worker_id=robin, manager_id=tam, aim="Timeliness",
                            steps=[("Weekly slot", today + timedelta(days=7))], today=today)
        supervision = record_supervision(s, worker_id=robin, supervisor_id=tam, held_on=today, today=today)
        for item in supervision_agenda(s, robin, today).follow_ups:
            tick_discussed(s, item.id, supervision.id)  # the last review was discussed: another is due
    ctx = make_context(url_of(db), today=today, staff_id="TM1")
    before = trail_rows(db)  # after signing in (naming a SQLite file's owner is recorded)
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "7")
        await settle(pilot)
        assert column(pilot, "#ao-support") == ["Robin Ash"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, SupportPlanScreen)
        assert "Aim: Timeliness" in screen_text(pilot.app)
        assert column(pilot, "#sp-table", 4) == [""]  # not on the agenda, and opening did not put it there
        assert trail_rows(db) == before
        review = pilot.app.screen.active_bindings["r"]
        assert review.enabled and review.binding.id == "sp-review" and review.binding.show

        await pilot.press("r")
        await settle(pilot)
        assert column(pilot, "#sp-table", 4) == ["yes"]
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(FollowUp)) == before[1] + 1


@SQLITE_ONLY
async def test_cases_are_shared_out_among_those_who_may_audit(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        create_theme(s, name="Neglect", today=today, cfg=parse_config({}))
    ctx = make_context(url_of(db), today=today, staff_id="HOS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "enter")
        await settle(pilot)
        await pilot.press("f", *"C-001", "enter")
        await settle(pilot)
        assert column(pilot, "#th-table") == ["C-001"]
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, PeopleSelection)
        offered = [str(o.prompt) for o in pilot.app.screen.query_one("#people").options]
        assert offered == ["Dana Director (DD)", "Hari Head (HOS)", "Nia North (OPS)", "Sol South (OPS)",
                           "Tam One (TM)", "Tam Two (TM)"]  # no social worker is given audits
        await pilot.press("down", "space", "ctrl+s")
        await settle(pilot)
        assert column(pilot, "#th-table", 4) == ["Hari Head"]


async def test_x_takes_a_row_off_the_good_practice_list_after_asking(db: Database, org: Org, today: date) -> None:
    from qa_tui.db.models import GoodPractice
    from tests.test_celebration import marked_sources

    ids = marked_sources(db, org, today)
    with db.session() as s:
        mark_good_practice(s, source_kind="feedback", source_id=ids["feedback"], why="Family [felt] heard [/]",
                           marked_by_id=None, today=today)
    ctx = make_context(url_of(db), today=today, staff_id="OPS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "6")
        await settle(pilot)
        assert "x" in shown_keys(pilot)
        assert column(pilot, "#ao-good_practice", 3) == ["Family [felt] heard [/]"]
        await pilot.press("x", "n")  # asked, and no: nothing changes
        await settle(pilot)
        await pilot.press("x", "y")
        await settle(pilot)
        assert "Good practice · " in screen_text(pilot.app) and column(pilot, "#ao-good_practice") == []
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(GoodPractice)) == 0
