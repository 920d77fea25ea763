"""Closing the loop with the worker, by keys alone at 100x30 (issue 21's "Done when"): the manager
records an observation and a dip sample with an action; the worker opens the app on their own
work, sees both (and nothing of a colleague's) and responds; the manager holds the supervision,
sees the substance and the response, updates the action, ticks the items and exports the record."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from textual.widgets import DataTable

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    FollowUp,
    Observation,
    Person,
    RecordSeen,
    Team,
    WorkerResponse,
)
from qa_tui.db.models import Case
from qa_tui.services.audits.actions import add_action
from qa_tui.services.practice.dip_sample import close_loop_with_worker, rate_area, start_dip_sample
from qa_tui.services.practice.observations import record_observation
from qa_tui.services.practice.responses import respond
from qa_tui.services.practice.supervision import record_supervision
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2027, 2, 10)
CFG = parse_config({})


def seed(db: Database) -> dict[str, uuid.UUID]:
    """Morgan manages Robin and Sam; Robin holds CASE-0001, Sam CASE-0002. Robin was last
    supervised on 13 January (monthly: due 13 February, this week)."""
    with db.session() as s:
        team = Team(code="A1", name="Assessment Team 1")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id, active_from=date(2020, 1, 1))
        s.add(tm)
        s.flush()
        robin = Person(staff_id="SW1", name="Robin Ash", role="SW", team_id=team.id, manager_id=tm.id,
                       active_from=date(2025, 1, 1), last_supervised_on=date(2027, 1, 13))
        sam = Person(staff_id="SW2", name="Sam Brook", role="SW", team_id=team.id, manager_id=tm.id,
                     active_from=date(2025, 1, 1))
        s.add_all([robin, sam])
        s.flush()
        mine = Case(reference="CASE-0001", category="CIN", worker_id=robin.id, team_id=team.id)
        theirs = Case(reference="CASE-0002", category="CP", worker_id=sam.id, team_id=team.id)
        s.add_all([mine, theirs])
        s.flush()
        return {"tm": tm.id, "robin": robin.id, "sam": sam.id, "mine": mine.id, "theirs": theirs.id}


def seed_findings(db: Database, ids: dict[str, uuid.UUID]) -> dict[str, uuid.UUID]:
    """What the manager's step leaves: a shared observation of Robin (entered late), a dip sample
    of Robin's case with an action, and a shared observation of Sam that Robin must not see."""
    with db.session() as s:
        obs = record_observation(s, observer_id=ids["tm"], worker_id=ids["robin"], observed_on=date(2027, 2, 3),
                                 kind="annual", setting="Home visit", went_well="Warm [b]rapport[/b]",
                                 to_develop="Explain the plan to the child", feedback_shared=True, today=TODAY)
        record_observation(s, observer_id=ids["tm"], worker_id=ids["sam"], observed_on=date(2027, 2, 3),
                           kind="annual", setting="Sam's core group", to_develop="Not Robin's business",
                           feedback_shared=True, today=TODAY)
        dip = start_dip_sample(s, case_id=ids["mine"], manager_id=ids["tm"], today=TODAY, cfg=CFG)
        for i, area in enumerate(dip.areas):
            rate_area(s, dip.id, area.key, 2 if i == 1 else 0, "No chronology since June" if i == 1 else "")
        close_loop_with_worker(s, dip.id, "Chronology missing", TODAY)
        action = add_action(s, title="Write the chronology", owner_id=ids["robin"], raised_by_id=ids["tm"],
                            source_kind="dip_sample", audit_id=dip.id, today=TODAY, cfg=CFG)
        return {"observation": obs.id, "dip": dip.id, "action": action.id}


def table_rows(app, selector: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def notes(app) -> str:  # noqa: ANN001
    return " | ".join(str(n.message) for n in app._notifications)


async def move_to_row(pilot, selector: str, column: int, text: str) -> None:  # noqa: ANN001
    table = pilot.app.screen.query_one(selector, DataTable)
    target = next(i for i, row in enumerate(table_rows(pilot.app, selector)) if text in row[column])
    step = "down" if target > table.cursor_row else "up"
    await pilot.press(*[step] * abs(target - table.cursor_row))


async def test_manager_records_an_observation_and_a_dip_sample_with_an_action(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert app.current_mode == "dashboard"  # a manager lands on the dashboard
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("enter", *"Rob", "enter", "tab", "tab", "home", "ctrl+k", *"03/02/2027", "tab")
        await pilot.press("enter", *"ann", "enter")
        await settle(pilot)
        await pilot.press("tab", *"Home visit", "tab", "space", "tab", "tab", *"Warm [b]rapport[/b]",
                          "tab", *"Explain the plan to the child", "ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter", "y")  # start a dip sample of CASE-0001
        await settle(pilot)
        await pilot.press("1", "down", "3", "enter", *"No chronology since June", "escape")
        await pilot.press(*["down", "1"] * 5)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Chronology missing", "enter")
        await settle(pilot)
        await pilot.press("n")  # a new action, as for an audit: the worker owns it by default
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedActionDialog"
        await pilot.press(*"Write the chronology", "ctrl+s")
        await settle(pilot)
        assert "Action added for Robin Ash" in notes(app)
    ctx.db.dispose()

    with db.reader() as s:
        obs = s.scalar(select(Observation).where(Observation.worker_id == ids["robin"]))
        assert (obs.observed_on, obs.setting, obs.feedback_shared, obs.to_develop) == (
            date(2027, 2, 3), "Home visit", True, "Explain the plan to the child")
        review = s.scalar(select(FollowUp).where(FollowUp.source_id == obs.id))
        assert (review.raised_on, review.event_on) == (TODAY, date(2027, 2, 3))
        dip = s.scalar(select(Audit).where(Audit.kind == "dip_sample"))
        action = s.scalar(select(Action).where(Action.audit_id == dip.id))
        assert (action.title, action.owner_id, action.source_kind, action.case_id, action.due_on) == (
            "Write the chronology", ids["robin"], "dip_sample", ids["mine"], TODAY + timedelta(weeks=4))


async def test_worker_lands_on_their_own_work_sees_both_and_responds(db: Database) -> None:
    ids = seed(db)
    made = seed_findings(db, ids)
    ctx = make_context(url_of(db), today=TODAY, staff_id="SW1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MyWorkScreen"  # a plain social worker lands here
        rows = table_rows(app, "#my-table")
        assert [row[0] for row in rows] == ["Dip sample", "Observation"]
        assert all("Sam" not in " ".join(row) for row in rows), "nothing of a colleague's"
        assert rows[1][3].startswith("Annual practice observation on 3 Feb")
        text = screen_text(app)
        assert "to discuss at your next supervision: 2 · open actions: 1" in text
        assert "• Action: Write the chronology (due 10 Mar 2027)" in text
        assert "Not met: Chronology: No chronology since June" in text  # the highlighted dip sample

        await move_to_row(pilot, "#my-table", 0, "Observation")  # Robin opens the observation
        assert "Annual practice observation on 3 Feb 2027 · Home visit · observed by Morgan Pryce" in screen_text(app)
        await pilot.press("enter")  # opening it records when the worker saw it
        await settle(pilot)
        assert app.screen.__class__.__name__ == "FindingScreen"
        assert "Warm [b]rapport[/b]" in screen_text(app)  # as typed, never markup
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("c")  # respond
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ResponseDialog"
        await pilot.press("enter", "down", "enter", "tab", "ctrl+s")  # disagree without a comment: refused
        await settle(pilot)
        assert "Comment: say what you disagree with." in screen_text(app)
        await pilot.press(*"I explained it (twice) [see notes]", "tab", *"Next time", "enter",
                          *"I will write it down", "escape")  # typed: Esc asks, n keeps it all
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n", "ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MyWorkScreen"
        assert table_rows(app, "#my-table")[1][2] == "you disagreed"
        assert "The worker disagrees" not in screen_text(app)  # the worker reads it as their own
        assert "You disagree: I explained it (twice) [see notes]" in screen_text(app)
    ctx.db.dispose()

    with db.reader() as s:
        seen = s.scalar(select(RecordSeen).where(RecordSeen.source_id == made["observation"]))
        assert (seen.source_kind, seen.person_id, seen.seen_on) == ("observation", ids["robin"], TODAY)
        response = s.scalar(select(WorkerResponse))
        assert (response.source_kind, response.source_id, response.worker_id, response.stance) == (
            "observation", made["observation"], ids["robin"], "disagree")
        assert (response.comment, response.reflection) == ("I explained it (twice) [see notes]",
                                                           "Next time\nI will write it down")


async def test_manager_holds_the_supervision_updates_the_action_ticks_and_exports(db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    made = seed_findings(db, ids)
    with db.session() as s:
        s.add(RecordSeen(source_kind="observation", source_id=made["observation"], person_id=ids["robin"],
                         seen_on=TODAY))
        respond(s, person_id=ids["robin"], source_kind="observation", source_id=made["observation"],
                stance="disagree", comment="I explained it twice", reflection="Write it down", today=TODAY)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        robin = next(row for row in table_rows(app, "#sup-table") if row[0] == "Robin Ash")
        assert robin[4:] == ["13 Jan 2027", "13 Feb 2027", "due this week"]  # the imported last supervision
        await move_to_row(pilot, "#sup-table", 0, "Robin Ash")
        await pilot.press("enter")
        await settle(pilot)
        rows = table_rows(app, "#agenda-table")
        assert [row[0] for row in rows] == ["Practice observation", "Dip sample", "Open action"]
        assert rows[0][1] == "from 3 Feb 2027"  # dated by the observation, not the day it was entered
        text = screen_text(app)
        assert "To develop: Explain the plan to the child" in text
        assert "The worker disagrees: I explained it twice" in text
        await pilot.press("o")  # open the record: the whole finding and the response
        await settle(pilot)
        assert "seen by the worker on 10 Feb 2027" in screen_text(app)
        await pilot.press("e")  # and the observation's own form
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ObservationFormScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AgendaScreen"
        await pilot.press("down")
        await settle(pilot)
        assert "Not met: Chronology: No chronology since June" in screen_text(app)

        await pilot.press("h")  # record the supervision being held
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", *"Discussed the plan", "enter", *"and the chronology", "ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AgendaScreen"
        await pilot.press("down", "down", "enter")  # the action: progress
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("enter", *"Half written", "enter")
        await settle(pilot)
        await pilot.press("enter", "down", "enter")  # extend: a date not after the due date is refused
        await settle(pilot)
        await pilot.press("home", "ctrl+k", *"01/02/2027", "enter", *"Court", "enter")
        await settle(pilot)
        assert "New due date" in screen_text(app)
        await pilot.press("home", "ctrl+k", *"31/03/2027", "enter")  # the reason typed is kept, cursor after it
        await settle(pilot)
        assert app.screen.query_one("#prompt-input").value == "Court"
        await pilot.press(*" work", "enter")
        await settle(pilot)
        assert "Extended to 31 Mar 2027" in notes(app)
        await pilot.press("up", "up", "enter", *"Agreed to share the plan", "enter")  # tick the observation
        await settle(pilot)
        await pilot.press("enter", "enter")  # and the dip sample, no note
        await settle(pilot)
        assert [row[0] for row in table_rows(app, "#agenda-table")] == ["Open action"]
        text = screen_text(app)
        assert "✓ Action: Write the chronology — Extended from 2027-03-10 to 2027-03-31: Court work" in text

        await pilot.press("x", "down", "enter")  # export the record of this supervision
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
    ctx.db.dispose()

    exported = tmp_path / "data" / "exports" / "supervision-SW1-2027-02-10.md"
    text = exported.read_text(encoding="utf-8")
    assert "  - To develop: Explain the plan to the child" in text
    assert "  - The worker disagrees: I explained it twice (2027-02-10)" in text
    assert "  - Their reflection: Write it down" in text
    assert "  - Note: Agreed to share the plan" in text
    assert "  - Not met: Chronology: No chronology since June" in text
    assert "- Write the chronology (case CASE-0001): Progress: Half written" in text
    assert "- Write the chronology (case CASE-0001): Extended from 2027-03-10 to 2027-03-31: Court work" in text
    assert text.rstrip().endswith("Discussed the plan\nand the chronology")
    with db.reader() as s:
        changes = s.scalars(select(ActionChange).where(ActionChange.action_id == made["action"])).all()
        assert {c.change for c in changes} == {"progress", "extended"} and all(c.supervision_id for c in changes)
        assert s.scalars(select(FollowUp).where(FollowUp.worker_id == ids["robin"],
                                                FollowUp.supervision_id.is_(None))).all() == []


async def test_a_login_linked_to_nobody_is_told_so_on_my_work(db: Database) -> None:
    seed(db)
    if db.is_sqlite:  # a laptop pulled by a login linked to nobody (PostgreSQL: the test login is linked to none)
        from qa_tui.services.people.owner import bind_to_puller

        with db.session() as s:
            bind_to_puller(s, "nobody-in-particular")
    ctx = make_context(url_of(db), today=TODAY)  # no staff ID and no linked login
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        assert app.current_mode == "dashboard"  # not a practitioner: the dashboard
        await pilot.press("W")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "MyWorkScreen"
        text = screen_text(app)
        assert "Your login is not linked to a person yet" in text
        assert app.screen.query_one("#my-table", DataTable).row_count == 0
    ctx.db.dispose()
