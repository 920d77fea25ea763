"""Nothing typed about an action is lost (issue 14): a new action (from a dip sample), the evidence
for marking one done (triage), an extension's date and reason (the supervision agenda) and a
reassignment's reason (triage) are kept as drafts as they are typed, offered back on the landing
screen after the app was killed, reopened with the text in them and stored once. Esc with text
typed asks. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, ActionChange, Person
from qa_tui.journal import journal_folder
from qa_tui.services.audits.actions import add_action
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_form_drafts import dead_pid, killed, offered
from tests.test_screens_worker_loop import CFG, TODAY, move_to_row, notes, seed, seed_findings

TITLE = 'Write the [chronology] before Friday\'s "core group" (antidisestablishmentarianism)'


def late_action(db: Database, ids: dict[str, uuid.UUID], title: str) -> uuid.UUID:
    """An action of Robin's a month overdue."""
    with db.session() as s:
        team_id = s.get(Person, ids["robin"]).team_id
        return add_action(s, title=title, owner_id=ids["robin"], raised_by_id=ids["tm"], source_kind="other",
                          team_id=team_id, due_on=TODAY - timedelta(days=30), today=TODAY - timedelta(days=60),
                          cfg=CFG).id


async def overdue_actions(pilot) -> None:  # noqa: ANN001
    """Triage, the manager's team, overdue actions only; the first highlighted."""
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    await pilot.press("K")
    await settle(pilot)
    assert pilot.app.screen.filters.kinds == ("action",)


def again(db: Database):  # noqa: ANN201
    return make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))


async def start_dip_sample(pilot) -> None:  # noqa: ANN001
    """From the landing screen, a dip sample of CASE-0001 started and open."""
    await settle(pilot)
    await pilot.press("k")
    await settle(pilot)
    await pilot.press("enter", "y")
    await settle(pilot)


def killed_again(folder, entries: list[dict]) -> None:  # noqa: ANN001
    """The restoring session is killed before its journal was cleared: the same drafts are
    offered at the next start."""
    folder.mkdir(exist_ok=True)
    (folder / "again.json").write_text(json.dumps({"pid": dead_pid(), "entries": entries}))


async def test_a_new_action_typed_when_the_app_died_comes_back_and_is_raised_once(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await start_dip_sample(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedActionDialog"
        await pilot.press(*TITLE)
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["New action from the dip sample of CASE-0001 · What needs doing"]
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):  # restored, then (killed before the journal was cleared) restored again
        restarted = again(db)
        async with restarted.run_test(size=SIZE) as pilot:
            shown = await offered(pilot, "New action from the dip sample of CASE-0001")
            assert TITLE in shown
            assert restarted.screen.__class__.__name__ == "DraftedActionDialog"
            assert restarted.screen.query_one("#action-title").value == TITLE
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "Action added for Robin Ash" in notes(restarted)
            restarted.unsaved_journal.flush()
            if attempt == 0:
                assert not list(folder.glob("*.json")), "raised: the draft has left the journal"
                killed_again(folder, entries)
            restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(Action.title).where(Action.source_kind == "dip_sample")).all() == [TITLE]


async def test_esc_on_a_typed_action_asks_and_keeps_it_with_a_no(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter", "y", "n")
        await settle(pilot)
        await pilot.press(*"Visit [dad]", "escape")
        await settle(pilot)
        assert "Discard what you typed?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#action-title").value == "Visit [dad]"
        await pilot.press("tab", "tab", "home", "ctrl+k", *"31/02/2027", "ctrl+s")  # refused beside the field
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedActionDialog"
        assert app.screen.query_one("#action-title").value == "Visit [dad]"
        app.unsaved_journal.flush()
        assert [e.label for e in app.unsaved_journal.entries] == [
            "New action from the dip sample of CASE-0001 · What needs doing, Due"]
    ctx.db.dispose()


async def test_evidence_typed_in_triage_when_the_app_died_comes_back_and_marks_it_done(db: Database) -> None:
    ids = seed(db)
    action_id = late_action(db, ids, "Update the [plan]")
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await overdue_actions(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"Plan [v2] shared on 9/2")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Marking done: Update the [plan] · Evidence that it was done"]
    ctx.db.dispose()

    restarted = again(db)
    async with restarted.run_test(size=SIZE) as pilot:
        await offered(pilot, "Marking done: Update the [plan]")
        assert restarted.screen.__class__.__name__ == "DraftedDoneDialog"
        assert restarted.screen.query_one("#done-evidence").value == "Plan [v2] shared on 9/2"
        await pilot.press("enter", *"Sees her sister weekly", "enter")
        await settle(pilot)
        assert "Marked done: Update the [plan]" in notes(restarted)
        restarted.unsaved_journal.flush()
        assert not restarted.unsaved_journal.entries
    restarted.ctx.db.dispose()
    with db.reader() as s:
        action = s.get(Action, action_id)
        assert (action.status, action.evidence, action.child_outcome) == (
            "done", "Plan [v2] shared on 9/2", "Sees her sister weekly")


async def test_a_reassignment_reason_typed_when_the_app_died_comes_back_with_its_new_owner(db: Database) -> None:
    ids = seed(db)
    action_id = late_action(db, ids, "Chase the school")
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await overdue_actions(pilot)
        await pilot.press("A")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        options = app.screen.options
        await pilot.press(*["down"] * next(i for i, (_, label) in enumerate(options) if "Sam Brook" in label))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"Robin is on leave [2 weeks]")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Reassigning: Chase the school · New owner, Reason"]
    ctx.db.dispose()

    restarted = again(db)
    async with restarted.run_test(size=SIZE) as pilot:
        await offered(pilot, "Reassigning: Chase the school")
        assert "Reassign to Sam Brook" in screen_text(restarted)
        assert restarted.screen.query_one("#prompt-input").value == "Robin is on leave [2 weeks]"
        await pilot.press("enter")
        await settle(pilot)
        assert "Reassigned to Sam Brook: Chase the school" in notes(restarted)
    restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.get(Action, action_id).owner_id == ids["sam"]
        change = s.scalar(select(ActionChange).where(ActionChange.action_id == action_id))
        assert (change.change, change.reason) == ("reassigned", "Robin is on leave [2 weeks]")


async def test_an_extension_typed_in_a_supervision_when_the_app_died_is_stored_in_that_supervision(
        db: Database) -> None:
    ids = seed(db)
    made = seed_findings(db, ids)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await move_to_row(pilot, "#sup-table", 0, "Robin Ash")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("h")  # hold the supervision
        await settle(pilot)
        await pilot.press("tab", "tab", "tab", *"Discussed the plan", "ctrl+s")
        await settle(pilot)
        await move_to_row(pilot, "#agenda-table", 0, "Open action")
        await pilot.press("enter", "down", "enter")  # extend
        await settle(pilot)
        await pilot.press("home", "ctrl+k", *"31/03/2027", "enter")
        await settle(pilot)
        await pilot.press(*"Waiting for the [court] report")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Extending: Write the chronology · New due date, Reason"]
    ctx.db.dispose()

    restarted = again(db)
    async with restarted.run_test(size=SIZE) as pilot:
        await offered(pilot, "Extending: Write the chronology")
        assert "Extend to 31 Mar 2027" in screen_text(restarted)
        await pilot.press("enter")
        await settle(pilot)
        assert "Extended to 31 Mar 2027: Write the chronology" in notes(restarted)
    restarted.ctx.db.dispose()
    with db.reader() as s:
        assert s.get(Action, made["action"]).due_on == date(2027, 3, 31)
        change = s.scalar(select(ActionChange).where(ActionChange.action_id == made["action"]))
        assert (change.change, change.reason) == ("extended", "Waiting for the [court] report")
        assert change.supervision_id is not None, "recorded in the supervision it was agreed in"


async def test_what_is_typed_straight_after_enter_lands_in_the_next_field(db: Database) -> None:
    from tests.test_audit_editor import burst, typed

    ids = seed(db)
    action_id = late_action(db, ids, "Update the [plan]")
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await overdue_actions(pilot)
        await pilot.press("c")
        await settle(pilot)
        await burst(pilot, [*typed("Plan [v2]"), "enter", *typed("Back at school"), "enter"])  # faster than handled
        assert "Marked done: Update the [plan]" in notes(app)
    ctx.db.dispose()
    with db.reader() as s:
        action = s.get(Action, action_id)
        assert (action.evidence, action.child_outcome) == ("Plan [v2]", "Back at school")
