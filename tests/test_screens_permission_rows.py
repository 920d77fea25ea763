"""Each row of docs/permissions.md as a person meets it in the app, allowed and refused, on both
databases: one app per case, a few real keys, then the database and the screen are asked what
happened. (Finalising: tests/test_screens_permissions.py; editing an observation:
tests/test_observation_signoff.py; people, teams and logins: the last test here.)"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from qa_tui.db.engine import Database
from qa_tui.db.models import Case, CaseDraw, Moderation, Person, Supervision
from qa_tui.services.people.owner import bind_to_puller
from qa_tui.services.practice.observations import record_observation
from qa_tui.services.practice.support import record_support_plan
from tests.conftest import PG_ADMIN_URL
from tests.permissions_seed import Council, act_as, nobody, seed_council, submitted_live_audit
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_database_guards import quoted

TODAY = date(2026, 11, 24)


def notes(app) -> str:  # noqa: ANN001
    return " | ".join(str(n.message) for n in app._notifications)


def count(db: Database, model: type) -> int:
    with db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


# --- what each row needs in the database before the app opens --------------------------------


def _submitted_audit(db: Database, council: Council) -> None:
    submitted_live_audit(db, council, council.tm, TODAY)


def _observed_and_planned(db: Database, council: Council) -> None:
    """Sam's observation (shared with her) and her support plan, kept by her team manager."""
    act_as(db, council.tm)
    with db.session() as s:
        record_observation(s, observer_id=council.tm, worker_id=council.sw, observed_on=TODAY, kind="annual",
                           went_well="Calm", feedback_shared=True, today=TODAY)
        record_support_plan(s, worker_id=council.sw, manager_id=council.tm, aim="Confidence in court",
                            steps=[("Shadow a hearing", TODAY)], today=TODAY)
    nobody(db)


# --- the rows, as keys --------------------------------------------------------------------------


async def _draw(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    await pilot.press("l")
    await settle(pilot)
    assert (app.screen.check_action("draw", ()) is True) == allowed  # greyed in the footer when not
    await pilot.press("n")
    await settle(pilot)
    if app.screen.__class__.__name__ == "ConfirmDialog":
        await pilot.press("y")
        await settle(pilot)
    assert count(db, CaseDraw) == (1 if allowed else 0)


async def _moderate(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    await pilot.press("m")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    if allowed:
        await pilot.press(*"Consistent", "enter")
        await settle(pilot)
        assert "Grades agreed" in notes(app)
    else:
        assert "may not moderate audits" in notes(app), notes(app)
    assert count(db, Moderation) == (1 if allowed else 0)


async def _supervise(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    await pilot.press("s")
    await settle(pilot)
    table = app.screen.query_one("#sup-table")
    names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
    if "Sam Worker" not in names:  # not listed for them at all: nothing to record
        assert not allowed
        return
    await pilot.press(*["down"] * names.index("Sam Worker"), "h")
    await settle(pilot)
    await pilot.press("ctrl+s")
    await settle(pilot)
    if not allowed:
        assert "only the worker's supervisor or line manager" in notes(app) + screen_text(app)
    assert count(db, Supervision) == (1 if allowed else 0)


async def _own_work(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    await pilot.press("W")
    await settle(pilot)
    shown = screen_text(app)
    assert ("annual practice observation" in shown.lower()) == allowed, shown
    assert "Confidence in court" not in shown and "Shadow a hearing" not in shown  # a plan is never here


async def _see_support_plan(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    await pilot.press("u", "7")  # Other audits, Support plans
    await settle(pilot)
    assert "Support plans" in screen_text(app)
    table = app.screen.query_one("SupportPane DataTable")
    rows = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
    assert (rows == ["Confidence in court"]) == allowed and (rows == []) == (not allowed), rows


async def _change_anything(pilot, app, db: Database, allowed: bool) -> None:  # noqa: ANN001
    assert bool(app.ctx.person_name) == allowed  # a login linked to no one is nobody
    await _draw(pilot, app, db, allowed)  # the one change a team manager makes first: greyed for nobody


Scenario = Callable[..., Awaitable[None]]
ROWS: list[tuple[str, Scenario, Callable[[Database, Council], None] | None, str, bool]] = [
    ("draw", _draw, None, "M001", True),  # the team's own manager
    ("draw", _draw, None, "W001", False),  # a social worker
    ("moderate", _moderate, _submitted_audit, "H001", True),  # a head of service who took no part
    ("moderate", _moderate, _submitted_audit, "P001", False),  # not a moderator role
    ("supervise", _supervise, None, "M001", True),  # Sam's line manager
    ("supervise", _supervise, None, "W002", False),  # Sam's peer
    ("own_work", _own_work, _observed_and_planned, "W001", True),  # Sam, whose work it is
    ("own_work", _own_work, _observed_and_planned, "W002", False),  # her peer
    ("see_support_plan", _see_support_plan, _observed_and_planned, "M001", True),  # who keeps it
    ("see_support_plan", _see_support_plan, _observed_and_planned, "H001", True),  # above them
    ("see_support_plan", _see_support_plan, _observed_and_planned, "W001", False),  # Sam herself
    ("see_support_plan", _see_support_plan, _observed_and_planned, "W002", False),  # her peer
    ("change", _change_anything, None, "M001", True),  # a login linked to a person
    ("change", _change_anything, None, "", False),  # a login linked to no one
]


def _unlinked(db: Database, own_login: Callable[..., str]) -> str:
    """The URL of a login linked to no one: on SQLite a laptop pulled by a stranger; on
    PostgreSQL a person's own login (not the superuser, who would run as set-up, unchecked)."""
    if not db.is_sqlite:
        return own_login()
    with db.session() as s:
        bind_to_puller(s, "stranger")
    return url_of(db)


@pytest.mark.parametrize(("row", "scenario", "prepare", "staff_id", "allowed"), ROWS,
                         ids=[f"{r[0]}-{r[3] or 'nobody'}-{'allowed' if r[4] else 'refused'}" for r in ROWS])
async def test_each_row_allowed_and_refused(db: Database, own_login: Callable[..., str], row: str,
                                            scenario: Scenario, prepare: Callable[[Database, Council], None] | None,
                                            staff_id: str, allowed: bool) -> None:
    council = seed_council(db)
    if prepare is not None:
        prepare(db, council)
    url = url_of(db) if staff_id else _unlinked(db, own_login)
    ctx = make_context(url, today=TODAY, staff_id=staff_id, user_team="T1")
    app = make_app(ctx)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await scenario(pilot, app, db, allowed)
            assert "Traceback" not in screen_text(app)
    finally:
        ctx.db.dispose()


# --- people, teams and logins: an administrator -------------------------------------------------


@pytest.fixture
def own_login(db: Database) -> Iterator[Callable[..., str]]:
    """On PostgreSQL, makes a person's own login (granted qa_tui_app, and qa_tui_admin when asked),
    linked to `staff_id` when given, and returns the database's URL as that login."""
    made: list[str] = []
    owner = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def make(staff_id: str = "", *, admin: bool = False) -> str:
        login = f"own.login.{uuid.uuid4().hex[:8]}"
        with owner.connect() as conn:
            conn.execute(text(f"CREATE ROLE {quoted(login)} LOGIN"))
            conn.execute(text(f"GRANT qa_tui_app{', qa_tui_admin' if admin else ''} TO {quoted(login)}"))
        made.append(login)
        if staff_id:
            with db.session() as s:
                s.scalar(select(Person).where(Person.staff_id == staff_id)).login = login
        return make_url(url_of(db)).set(username=login).render_as_string(hide_password=False)

    try:
        yield make
    finally:
        with owner.connect() as conn:
            for login in made:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                             {"r": login})
                conn.execute(text(f"DROP ROLE IF EXISTS {quoted(login)}"))
        owner.dispose()


async def test_people_and_logins_are_for_an_administrator(db: Database, own_login: Callable[..., str]) -> None:
    """Allowed: the owner of a standalone SQLite file, or a login granted qa_tui_admin: the People
    screen's edit key works. (Refused: tests/test_screens_permissions.py.)"""
    seed_council(db)
    if db.is_sqlite:
        ctx = make_context(url_of(db), today=TODAY, staff_id="P001")  # named the owner at set-up
    else:
        ctx = make_context(own_login("P001", admin=True), today=TODAY)
    assert ctx.person_name == "Pip Improvement"
    app = make_app(ctx)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("a", "2")  # People
            await settle(pilot)
            assert app.screen.check_action("edit", ()) is True and app.screen.check_action("new", ()) is True
            await pilot.press("e")
            await settle(pilot)
            assert app.screen.__class__.__name__ != "AdminScreen"  # the person's form is open
    finally:
        ctx.db.dispose()


# --- importing caseload extracts --------------------------------------------------------------

CASES_CSV = "case_reference,category,worker_staff_id,team_code,opened_on\nNEW-1,CIN,W001,,2026-03-02\n"


@pytest.mark.parametrize(("staff_id", "allowed"), [("P001", True), ("W001", False)])
async def test_importing_a_caseload_extract_is_for_the_practice_improvement_team(db: Database, tmp_path: Path,
                                                                               staff_id: str, allowed: bool) -> None:
    """Pip (practice improvement) writes the import; Sam, a social worker, sees the preview but its
    write key is greyed and does nothing. (On SQLite Sam's file is a laptop she pulled: a
    standalone file's owner is its administrator.)"""
    seed_council(db)
    (tmp_path / "cases.csv").write_text(CASES_CSV, encoding="utf-8")
    if db.is_sqlite and not allowed:
        with db.session() as s:
            s.scalar(select(Person).where(Person.staff_id == staff_id)).login = "sam"
            bind_to_puller(s, "sam")
        ctx = make_context(url_of(db), today=TODAY)
    else:
        ctx = make_context(url_of(db), today=TODAY, staff_id=staff_id)
    app = make_app(ctx)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("a", "i")
            await settle(pilot)
            app.screen.query_one("#file-path").value = str(tmp_path / "cases.csv")
            await pilot.pause()
            app.screen.query_one("#file-kind").value = "cases"
            await pilot.pause()
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen.__class__.__name__ == "ImportScreen"
            assert "Nothing has been written" in screen_text(app), screen_text(app)  # the preview: open to anyone
            assert (app.screen.check_action("write", ()) is True) == allowed
            await pilot.press("w")
            await settle(pilot)
            if app.screen.__class__.__name__ == "ConfirmDialog":
                await pilot.press("y")
                await settle(pilot)
            assert "Traceback" not in screen_text(app)
    finally:
        ctx.db.dispose()
    with db.reader() as s:
        assert (s.scalar(select(Case).where(Case.reference == "NEW-1")) is not None) == allowed
