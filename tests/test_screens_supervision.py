"""Supervision by keyboard: who is overdue by cadence, a worker's agenda before and after a
supervision is held (ticked items leave it and stay linked), and the Markdown export (0600)."""

from __future__ import annotations

import stat
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Static

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, AuditEvent, FollowUp, Person, Supervision, Team
from qa_tui.errors import ValidationError
from qa_tui.services.practice.feedback import record_feedback
from qa_tui.services.practice.observations import record_observation
from qa_tui.services.practice.pickers import (
    export_agenda_markdown,
    export_supervision_markdown,
    recent_supervisions,
)
from qa_tui.services.practice.supervision import record_supervision
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

TODAY = date(2027, 2, 10)


def seed(db: Database) -> dict[str, uuid.UUID]:
    """Robin: last supervised 1 Dec (monthly, so overdue since 1 Jan), with an observation and a
    piece of feedback to discuss and an overdue action. Sam: supervised 1 Feb, on time."""
    with db.session() as s:
        team = Team(code="A1", name="Assessment Team 1")
        s.add(team)
        s.flush()
        tm = Person(staff_id="TM1", name="Morgan Pryce", role="TM", team_id=team.id, active_from=date(2020, 1, 1))
        s.add(tm)
        s.flush()
        robin = Person(staff_id="SW1", name="Robin Ash", role="SW", team_id=team.id, manager_id=tm.id,
                       active_from=date(2025, 1, 1))
        sam = Person(staff_id="SW2", name="Sam Brook", role="SW", team_id=team.id, manager_id=tm.id,
                     active_from=date(2025, 1, 1))
        s.add_all([robin, sam])
        s.flush()
        record_supervision(s, worker_id=robin.id, supervisor_id=tm.id, held_on=date(2026, 12, 1), today=TODAY)
        record_supervision(s, worker_id=sam.id, supervisor_id=tm.id, held_on=date(2027, 2, 1), today=TODAY)
        record_observation(s, observer_id=tm.id, worker_id=robin.id, observed_on=date(2027, 1, 20), kind="annual",
                           setting="Home visit", today=date(2027, 1, 20))
        record_feedback(s, received_on=date(2027, 1, 25), worker_id=robin.id, giver="parent", channel="phone",
                        rating=5, said="Listened to us", today=date(2027, 1, 25))
        s.add(Action(title="Update the chronology", owner_id=robin.id, team_id=team.id, raised_by_id=tm.id,
                     raised_on=date(2026, 12, 1), due_on=date(2027, 1, 5)))
        return {"tm": tm.id, "robin": robin.id, "sam": sam.id}



def table_rows(app, selector: str) -> list[list[str]]:  # noqa: ANN001
    table = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def move_to_row(pilot, selector: str, first_cell: str) -> None:  # noqa: ANN001
    table = pilot.app.screen.query_one(selector, DataTable)
    target = [row[0] for row in table_rows(pilot.app, selector)].index(first_cell)
    step = "down" if target > table.cursor_row else "up"
    await pilot.press(*[step] * abs(target - table.cursor_row))


async def test_agenda_before_and_after_holding_a_supervision_by_keys(db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        rows = {row[0]: row for row in table_rows(app, "#sup-table")}
        assert rows["Robin Ash"][3:] == ["monthly", "1 Dec 2026", "1 Jan 2027", "40 days"]
        assert rows["Sam Brook"][6] == "on time"
        assert [row[0] for row in table_rows(app, "#sup-table")] == ["Morgan Pryce", "Robin Ash", "Sam Brook"]
        assert "Supervision · your team" in screen_text(app) and "2 overdue, 0 due this week, of 3" in screen_text(app)

        await move_to_row(pilot, "#sup-table", "Robin Ash")
        await pilot.press("enter")  # Robin's agenda
        await settle(pilot)
        before = table_rows(app, "#agenda-table")
        assert [row[0] for row in before] == ["Practice observation", "Family feedback", "Open action"]
        assert before[2][1] == "due 5 Jan 2027, 36d late" and before[2][3] == "Update the chronology"
        await pilot.press("enter")  # nothing is being held yet: refused with a hint
        await settle(pilot)
        assert any("Press h first" in str(n.message) for n in app._notifications)

        await pilot.press("h")  # Robin has an earlier supervision, so: new, or that one?
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ChoiceDialog"
        await pilot.press("enter")  # record a new one
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SupervisionDialog"
        await pilot.press("home", "ctrl+k", *"11/02/2027", "ctrl+s")  # tomorrow: refused, named, kept
        await settle(pilot)
        assert str(app.screen.query_one("#sup-error", Static).render()).startswith("Held on: 2027-02-11 is in the future")
        await pilot.press("home", "ctrl+k", *"10/02/2027", "tab", "tab", "tab", *"Monthly", "enter", *"Goals (next)", "ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AgendaScreen"
        assert "Discussed at the casework supervision of 10 Feb 2027" in screen_text(app)

        await pilot.press("enter")  # tick the observation review, with a note
        await settle(pilot)
        await pilot.press(*"Goals set", "enter")
        await settle(pilot)
        after = table_rows(app, "#agenda-table")
        assert [row[0] for row in after] == ["Family feedback", "Open action"]
        assert "✓ Practice observation" in screen_text(app) and "Goals set" in screen_text(app)

        await pilot.press("x")  # export: the agenda or this supervision's record
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("enter")  # the suggested file in the exports folder
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        rows = {row[0]: row for row in table_rows(app, "#sup-table")}
        assert rows["Robin Ash"][4:] == ["10 Feb 2027", "10 Mar 2027", "on time"]
    ctx.db.dispose()

    exported = tmp_path / "data" / "exports" / "supervision-SW1-2027-02-10.md"
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    text = exported.read_text(encoding="utf-8")
    assert "# Casework supervision: Robin Ash (SW1)" in text and "Note: Goals set" in text
    with db.reader() as s:
        held = s.scalar(select(Supervision).where(Supervision.worker_id == ids["robin"], Supervision.held_on == TODAY))
        assert (held.supervisor_id, held.kind, held.notes) == (ids["tm"], "casework", "Monthly\nGoals (next)")
        items = {f.source_kind: f for f in s.scalars(select(FollowUp).where(FollowUp.worker_id == ids["robin"]))}
        assert items["observation"].supervision_id == held.id and items["observation"].discussed_note == "Goals set"
        assert items["feedback"].supervision_id is None
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "export",
                                                 AuditEvent.record_id == str(held.id))) is not None


async def test_recording_from_the_status_list_opens_the_agenda_holding_it(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await move_to_row(pilot, "#sup-table", "Sam Brook")
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("tab", "enter", "down", "enter", "ctrl+s")  # kind: reflective
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AgendaScreen"
        assert "Agenda for Sam Brook" in screen_text(app)
        assert "Nothing waiting" in screen_text(app)
    ctx.db.dispose()
    with db.reader() as s:
        held = s.scalar(select(Supervision).where(Supervision.worker_id == ids["sam"], Supervision.held_on == TODAY))
        assert (held.kind, held.supervisor_id) == ("reflective", ids["tm"])


def test_recent_supervisions_newest_first_and_exports_are_private_and_recorded(db: Database, tmp_path: Path) -> None:
    ids = seed(db)
    with db.session() as s:
        record_supervision(s, worker_id=ids["robin"], supervisor_id=ids["tm"], held_on=TODAY - timedelta(days=1),
                           kind="reflective", today=TODAY)
    with db.reader() as s:
        recent = recent_supervisions(s, ids["robin"], TODAY)
        assert [(v.held_on, v.kind) for v in recent] == [(date(2027, 2, 9), "reflective"), (date(2026, 12, 1), "casework")]
        assert recent_supervisions(s, ids["robin"], date(2027, 1, 1)) == recent[1:]
    with db.session() as s:
        agenda = export_agenda_markdown(s, ids["robin"], TODAY, tmp_path / "out" / "agenda.md")
        record = export_supervision_markdown(s, recent[0].id, tmp_path / "record.md")
    assert stat.S_IMODE(agenda.stat().st_mode) == 0o600 and stat.S_IMODE(record.stat().st_mode) == 0o600
    assert "Update the chronology" in agenda.read_text(encoding="utf-8")
    assert "# Reflective supervision: Robin Ash (SW1)" in record.read_text(encoding="utf-8")
    with db.reader() as s:
        details = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "export")).all()
        assert sorted(details) == [f"supervision agenda as Markdown to {agenda}",
                                   f"supervision record as Markdown to {record}"]
    with pytest.raises(ValidationError, match="is a folder"), db.session() as s:
        export_agenda_markdown(s, ids["robin"], TODAY, tmp_path)


async def test_a_refused_supervision_or_tick_keeps_its_notes_with_the_reason_and_esc_asks(db: Database) -> None:
    ids = seed(db)
    ctx = make_context(url_of(db), today=TODAY, staff_id="TM1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        app = pilot.app
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await move_to_row(pilot, "#sup-table", "Robin Ash")
        await pilot.press("enter", "h")
        await settle(pilot)
        await pilot.press("enter")  # a new supervision, held before the feedback came in
        await settle(pilot)
        await pilot.press("home", "ctrl+k", *"31/02/2027")
        app.screen.query_one("#sup-notes").focus()
        await pilot.press(*"Talked about [risk]", "escape")  # the notes are typed: asked first, n keeps them
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n", "ctrl+s")  # refused for its date: named, the notes kept
        await settle(pilot)
        dialog = app.screen
        assert str(dialog.query_one("#sup-error").render()).startswith("Held on: ")
        assert dialog.query_one("#sup-notes").text == "Talked about [risk]"
        dialog.query_one("#sup-held_on").value = "21/01/2027"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "AgendaScreen"
        await move_to_row(pilot, "#agenda-table", "Family feedback")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*"Mum felt [heard]", "enter")  # refused: raised after that supervision
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DraftedPrompt"  # a TextPrompt keeping its draft
        assert app.screen.query_one("#prompt-input").value == "Mum felt [heard]"
        assert "Not ticked: This follow-up comes from 2027-01-25" in str(
            app.screen.query_one("#prompt-error", Static).render())
        await pilot.press("escape")  # the note typed with it is not thrown away without asking
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ConfirmDialog"
        await pilot.press("n")
        await settle(pilot)
        assert app.screen.query_one("#prompt-input").value == "Mum felt [heard]"
        await pilot.press("escape", "y")
        await settle(pilot)
    with db.reader() as s:
        held = s.scalar(select(Supervision).where(Supervision.worker_id == ids["robin"],
                                                  Supervision.held_on == date(2027, 1, 21)))
        assert held.notes == "Talked about [risk]"
        feedback = s.scalar(select(FollowUp).where(FollowUp.worker_id == ids["robin"],
                                                   FollowUp.source_kind == "feedback"))
        assert feedback.supervision_id is None
