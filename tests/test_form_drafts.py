"""Nothing a person types in a form is lost: a supervision record, feedback, a response, a
moderation comment or a support plan's step is kept as a draft as it is typed, offered back on the
landing screen after the app was killed, reopened with the text in it, and stored once (restored
twice, it is still one record). Esc with text typed asks first. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from qa_tui.app import QAApp
from qa_tui.db.engine import Database
from qa_tui.db.models import Supervision
from qa_tui.journal import journal_folder
from screens.overview.unsaved import UnsavedDialog
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_screens_audit_kinds import Org, choose, org, today, type_and_enter  # noqa: F401 - fixtures
from tests.test_screens_supervision import TODAY, move_to_row, seed


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def killed(app: QAApp) -> list[dict]:
    """The session ends as if killed: its journal is left on disk naming a process now gone.
    Returns the drafts it held."""
    journal = app.unsaved_journal
    assert journal is not None
    journal.flush()
    body = json.loads(journal.path.read_text())
    body["pid"] = dead_pid()
    journal.path.write_text(json.dumps(body))
    return body["entries"]


async def offered(pilot, label: str) -> str:  # noqa: ANN001
    """The landing screen offers the draft back, named by its record and field; r restores it."""
    await settle(pilot)
    assert isinstance(pilot.app.screen, UnsavedDialog), pilot.app.screen
    shown = "\n".join(str(w.render()) for w in pilot.app.screen.query(".entry"))
    assert label in shown, shown
    await pilot.press("r")
    await settle(pilot)
    return shown


async def new_supervision_notes(pilot, worker: str) -> None:  # noqa: ANN001
    """From the supervision list, record a supervision with `worker`, the notes focused."""
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)
    await move_to_row(pilot, "#sup-table", worker)
    await pilot.press("h")
    await settle(pilot)
    pilot.app.screen.query_one("#sup-notes").focus()


async def test_a_supervision_note_survives_a_kill_and_is_recorded_once(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await new_supervision_notes(pilot, "Sam Brook")
        await pilot.press(*"Talked about [b]risk[/b]", "enter", *"and the plan")
        await settle(pilot)
        entries = killed(app)
    assert [e["label"] for e in entries] == ["Supervision note for Sam Brook, 10 Feb 2027 · Notes"]
    folder = journal_folder(ctx.config.database_url)
    ctx.db.dispose()

    for attempt in range(2):  # restored, then (killed before the journal was cleared) restored again
        again = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
        async with again.run_test(size=SIZE) as pilot:
            shown = await offered(pilot, "Supervision note for Sam Brook, 10 Feb 2027 · Notes")
            assert "Talked about [b]risk[/b] and the plan" in shown
            assert again.screen.__class__.__name__ == "SupervisionDialog"
            assert again.screen.query_one("#sup-notes").text == "Talked about [b]risk[/b]\nand the plan"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert again.screen.__class__.__name__ == "AgendaScreen"
            again.unsaved_journal.flush()
            if attempt == 0:
                assert not list(folder.glob("*.json")), "recorded: the draft has left the journal"
                folder.mkdir(exist_ok=True)
                (folder / "again.json").write_text(json.dumps({"pid": dead_pid(), "entries": entries}))
            again.ctx.db.dispose()
    with db.reader() as s:
        notes = s.scalars(select(Supervision.notes).where(Supervision.worker_id == ids["sam"],
                                                          Supervision.held_on == TODAY)).all()
        assert notes == ["Talked about [b]risk[/b]\nand the plan"], "restored twice, recorded once"


async def test_esc_on_a_typed_supervision_note_asks_and_a_yes_forgets_the_draft(db: Database) -> None:
    seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await new_supervision_notes(pilot, "Sam Brook")
        await pilot.press(*"Half a thought", "escape")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        assert "Discard what you typed?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#sup-notes").text == "Half a thought"
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen.__class__.__name__ != "SupervisionDialog"
        app.unsaved_journal.flush()
        assert not app.unsaved_journal.entries, "discarded with a yes: nothing kept"
    ctx.db.dispose()


async def restored_after_kill(db: Database, staff_id: str, today, label: str, type_draft) -> QAApp:  # noqa: ANN001
    """`type_draft(pilot)` types into a form; the app is killed; a new session offers the draft
    (named `label`) and restores it. Returns the new app, its pilot still running, to save."""
    ctx = make_context(url_of(db), today=today, staff_id=staff_id)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await type_draft(pilot)
        await settle(pilot)
        assert [e["label"] for e in killed(app)] == [label]
    ctx.db.dispose()
    return make_app(make_context(url_of(db), today=today, staff_id=staff_id))


async def save_restored(again: QAApp, label: str, typed: str, form: str, save: str) -> None:
    """In the new session, the draft is offered showing `typed`, reopens in `form`, and `save` stores it."""
    async with again.run_test(size=SIZE) as pilot:
        assert typed in await offered(pilot, label)
        assert again.screen.__class__.__name__ == form
        await pilot.press(save)
        await settle(pilot)
        assert again.screen.__class__.__name__ != form
        again.unsaved_journal.flush()
        assert not again.unsaved_journal.entries, "stored: the draft has left the journal"
        again.ctx.db.dispose()


async def test_a_response_survives_a_kill_and_is_offered_on_my_work(db: Database) -> None:
    from qa_tui.db.models import WorkerResponse
    from tests.test_screens_worker_loop import TODAY as LOOP_DAY
    from tests.test_screens_worker_loop import move_to_row as move_to
    from tests.test_screens_worker_loop import seed as loop_seed
    from tests.test_screens_worker_loop import seed_findings

    made = seed_findings(db, loop_seed(db))

    async def respond(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await move_to(pilot, "#my-table", 0, "Observation")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter", "down", "enter", "tab", *"I explained it [twice]", "tab", *"Next time",
                          "enter", *"I will write it down")

    label = "Your response to observation of 3 Feb 2027 · Comment, Your reflection"
    again = await restored_after_kill(db, "SW1", LOOP_DAY, label, respond)
    await save_restored(again, label, "I explained it [twice]", "ResponseDialog", "ctrl+s")
    with db.reader() as s:
        response = s.scalar(select(WorkerResponse).where(WorkerResponse.source_id == made["observation"]))
        assert (response.stance, response.comment, response.reflection) == (
            "disagree", "I explained it [twice]", "Next time\nI will write it down")


async def test_feedback_survives_a_kill_with_its_choices_and_is_recorded_once(db: Database) -> None:
    from qa_tui.db.models import Feedback
    from tests.test_screens_dip_feedback import TODAY as FEEDBACK_DAY
    from tests.test_screens_dip_feedback import seed as feedback_seed

    ids = feedback_seed(db)

    async def record(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("tab", *"CASE-0001", "tab", "tab", "enter", *"Par", "enter", "tab", "enter", *"Pho", "enter")
        await settle(pilot)
        pilot.app.screen.query_one("#fb-said-text").focus()
        await pilot.press(*"She listened [to us]")

    label = "Feedback received 10 Feb 2027 · Case, What they said"
    again = await restored_after_kill(db, "TM1", FEEDBACK_DAY, label, record)
    await save_restored(again, label, "She listened [to us]", "FeedbackFormScreen", "ctrl+s")
    with db.reader() as s:
        rows = s.execute(select(Feedback.case_id, Feedback.giver, Feedback.channel, Feedback.said)).all()
        assert rows == [(ids["CASE-0001"], "parent", "phone", "She listened [to us]")]


async def open_first_waiting(pilot) -> None:  # noqa: ANN001
    """The oldest audit waiting for moderation, open."""
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_a_regrade_comment_survives_a_kill_with_the_regrade_and_is_stored_once(db: Database) -> None:
    from qa_tui.db.models import Audit, AuditGrade, Moderation, Person
    from qa_tui.demo import build_demo
    from tests.test_moderation_screen import TODAY as MODERATION_DAY

    build_demo(db, today=MODERATION_DAY, cases=400)
    with db.reader() as s:
        hos = s.scalar(select(Person).where(Person.role == "HOS").order_by(Person.staff_id))
        first = s.scalars(select(Audit).where(Audit.status == "submitted").order_by(Audit.submitted_at, Audit.id)).first()
        reference = first.case.reference
        recording = s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == first.id,
                                                            AuditGrade.domain == "recording",
                                                            AuditGrade.participant_id.is_(None)))
    new_grade = 3 if recording != 3 else 2

    async def regrade(pilot) -> None:  # noqa: ANN001
        await open_first_waiting(pilot)
        await pilot.press(str(new_grade + 1), "g")
        await settle(pilot)
        await pilot.press(*"Recording is [thinner] than graded")

    label = f"Moderation comment on the audit of {reference} · Comment"
    again = await restored_after_kill(db, hos.staff_id, MODERATION_DAY, label, regrade)
    await save_restored(again, label, "Recording is [thinner] than graded", "DraftedPrompt", "enter")
    with db.reader() as s:
        moderations = s.scalars(select(Moderation).where(Moderation.audit_id == first.id)).all()
        assert [(m.outcome, m.comment) for m in moderations] == [("regraded", "Recording is [thinner] than graded")]
        assert moderations[0].grades["recording"]["grade"] == new_grade


async def test_esc_on_a_typed_return_comment_asks_before_dropping_it(db: Database) -> None:
    from qa_tui.db.models import Person
    from qa_tui.demo import build_demo
    from tests.test_moderation_screen import TODAY as MODERATION_DAY

    build_demo(db, today=MODERATION_DAY, cases=400)
    with db.reader() as s:
        hos = s.scalar(select(Person.staff_id).where(Person.role == "HOS").order_by(Person.staff_id))
    ctx = make_context(url_of(db), today=MODERATION_DAY, staff_id=hos)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await open_first_waiting(pilot)
        await pilot.press("r", *"Redo the chronology", "escape")
        await settle(pilot)
        assert "Discard what you typed?" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#prompt-input").value == "Redo the chronology"
        assert app.unsaved_journal.entries, "still kept"
    ctx.db.dispose()


async def test_a_support_plan_wizard_killed_mid_step_goes_on_where_it_was_and_records_once(
        db: Database, org: Org, today: date) -> None:
    from qa_tui.db.models import SupportPlan, SupportStep

    async def plan(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("u", "7", "n")
        await settle(pilot)
        await choose(pilot, "Robin Ash")
        await type_and_enter(pilot, "Timeliness [of records]")
        await pilot.press(*"Weekly slot")

    label = "Support plan for Robin Ash · What they need support to improve, First step"
    again = await restored_after_kill(db, "TM1", today, label, plan)
    async with again.run_test(size=SIZE) as pilot:
        assert "Timeliness [of records]" in await offered(pilot, label)
        assert again.screen.query_one("#prompt-input").value == "Weekly slot"
        await type_and_enter(pilot, "")  # the step, then its due date as offered
        await type_and_enter(pilot, "")
        assert again.screen.__class__.__name__ == "SupportPlanScreen"
        again.unsaved_journal.flush()
        assert not again.unsaved_journal.entries
        again.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(SupportPlan.aim)).all() == ["Timeliness [of records]"]
        assert s.scalars(select(SupportStep.step)).all() == ["Weekly slot"]


async def test_how_a_support_plan_ended_survives_a_kill(db: Database, org: Org, today: date) -> None:
    from qa_tui.db.models import SupportPlan
    from qa_tui.services.practice.support import record_support_plan

    with db.session() as s:
        record_support_plan(s, worker_id=org.people["swa"], manager_id=org.people["tmn1"], aim="Timeliness",
                            steps=[("Weekly slot", today + timedelta(weeks=2))], today=today)

    async def close(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("u", "7", "enter")
        await settle(pilot)
        await pilot.press("c", *"Records on time [since May]")

    label = "Closing the support plan for Robin Ash · How it ended"
    again = await restored_after_kill(db, "TM1", today, label, close)
    await save_restored(again, label, "Records on time [since May]", "DraftedPrompt", "enter")
    with db.reader() as s:
        assert s.execute(select(SupportPlan.status, SupportPlan.outcome)).all() == [
            ("closed", "Records on time [since May]")]


async def test_a_finding_for_supervision_survives_a_kill_and_goes_on_the_agenda_once(db: Database) -> None:
    from qa_tui.db.models import FollowUp
    from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
    from tests.test_audit_editor import BUILT_ON, MEETING_DAY, open_meeting

    build_demo(db, today=BUILT_ON, cases=400)
    found: dict[str, object] = {}

    async def finding(pilot) -> None:  # noqa: ANN001
        editor = await open_meeting(pilot)
        found["audit"], found["reference"] = editor.audit.id, editor.audit.case_reference
        found["worker"] = editor.audit.worker.name
        await pilot.press("f")
        await settle(pilot)
        await pilot.press(*"Record the child's [words] verbatim")

    ctx = make_context(url_of(db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await finding(pilot)
        await settle(pilot)
        entries = killed(app)
    ctx.db.dispose()
    label = f"Finding for supervision for {found['worker']} (audit of {found['reference']}) · What to discuss"
    assert [e["label"] for e in entries] == [label]
    again = make_app(make_context(url_of(db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID))
    await save_restored(again, label, "Record the child's [words] verbatim", "DraftedPrompt", "enter")
    with db.reader() as s:
        summaries = s.scalars(select(FollowUp.summary).where(FollowUp.source_id == found["audit"])).all()
        assert summaries == ["Record the child's [words] verbatim"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # on PostgreSQL a team manager may not add teams
async def test_a_new_team_typed_survives_a_kill_and_restored_twice_is_added_once(db: Database) -> None:
    from qa_tui.db.models import Team

    seed(db)

    async def new_team(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"B2", "tab", *"Fostering [East]")

    label = "People, teams and cases: New team · Team code, Team name"
    again = await restored_after_kill(db, "TM1", TODAY, label, new_team)
    entries = json.loads(next(journal_folder(again.ctx.config.database_url).glob("*.json")).read_text())["entries"]
    await save_restored(again, label, "Fostering [East]", "RecordForm", "ctrl+s")
    twice = make_app(make_context(url_of(db), today=TODAY, staff_id="TM1"))
    folder = journal_folder(twice.ctx.config.database_url)
    (folder / "again.json").write_text(json.dumps({"pid": dead_pid(), "entries": entries}))
    async with twice.run_test(size=SIZE) as pilot:
        await offered(pilot, label)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "another team already has the code" in str(twice.screen.query_one("#form-error").render())
        twice.ctx.db.dispose()
    with db.reader() as s:
        assert s.scalars(select(Team.name).where(Team.code == "B2")).all() == ["Fostering [East]"]
