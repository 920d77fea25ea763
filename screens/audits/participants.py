"""The meeting's attendance list and one audit's grid of participants' own grades: every
participant × every domain and the overall grade, graded with 1–4 in the cell under the cursor
(0 or Delete clears it). People show by first name unless two share it. Opened from the meeting."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from qa_tui.widgets.literal import literal
from qa_tui.widgets.save_queue import REFUSED, SaveQueue
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.participants import Attendee, ParticipantGrid
    from qa_tui.services.people.directory import PersonRef

NAME_WIDTH = 22
GRADE_WIDTH = 9


class ParticipantGridScreen(QAScreen):
    """Participants' grades for one audit of a meeting; + and - change who attends the meeting."""

    DEFAULT_CSS = """
    ParticipantGridScreen #pg-title { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    ParticipantGridScreen #pg-attending { height: auto; max-height: 3; padding: 0 1; }
    ParticipantGridScreen #pg-grid { height: 1fr; }
    ParticipantGridScreen #pg-legend { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    ParticipantGridScreen #pg-status { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("1", "grade(0)", "Grade 1-4", id="pg-grade-1", tooltip="Give the highlighted person this grade"),
        Binding("2", "grade(1)", show=False, id="pg-grade-2", tooltip="Grade 2"),
        Binding("3", "grade(2)", show=False, id="pg-grade-3", tooltip="Grade 3"),
        Binding("4", "grade(3)", show=False, id="pg-grade-4", tooltip="Grade 4"),
        Binding("5", "grade(4)", show=False, id="pg-grade-5", tooltip="Grade 5"),
        Binding("0,delete", "grade(None)", "Clear", id="pg-grade-clear", tooltip="Clear the highlighted grade"),
        Binding("plus,equals_sign", "add_attendee", "Add attendee", id="pg-attend",
                tooltip="Someone else is at the meeting: they take part in every audit it opens"),
        Binding("minus", "remove_attendee", "Not attending", id="pg-leave",
                tooltip="The highlighted person is not at the meeting (they stay on audits they graded)"),
        Binding("escape", "back", "Back", id="pg-back", tooltip="Back to the meeting, once every grade is saved"),
    ]

    def __init__(self, audit_id: uuid.UUID, draw_id: uuid.UUID | None, team_id: uuid.UUID | None,
                 case_label: str = "") -> None:
        super().__init__()
        self.audit_id = audit_id
        self.draw_id = draw_id
        self.team_id = team_id
        self.case_label = case_label
        self.grid: ParticipantGrid | None = None
        self.attending: list[Attendee] = []
        self.version: int | None = None
        self.saves = SaveQueue(self, self._save_failed, on_change=self._show_status)
        self.pending: dict[tuple[uuid.UUID, str], int | None] = {}

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="pg-title")
        yield Static("", id="pg-attending")
        yield DataTable(id="pg-grid", cursor_type="cell", zebra_stripes=True)
        yield Static("", id="pg-legend")
        yield Static("", id="pg-status")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#pg-grid", DataTable)

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        from qa_tui.services.audits.participants import meeting_attendance, participant_grid

        audit_id, draw_id = self.audit_id, self.draw_id
        self.call_service(lambda s: (participant_grid(s, audit_id),
                                     meeting_attendance(s, draw_id) if draw_id else []),
                          lambda loaded: self.show(*loaded), group="participant-grid", exclusive=True)

    def show(self, grid: ParticipantGrid, attending: list[Attendee]) -> None:
        self.grid, self.attending = grid, attending
        if self.version is None or self.saves.idle:
            self.version = grid.version
        self.query_one("#pg-title", Static).update(Text.assemble(
            ("Participants' grades", "bold"), literal(f" · {self.case_label}" if self.case_label else ""),
            literal(f" · {len(grid.people)} taking part" + ("" if grid.editable else " · not a draft: read only"))))
        in_grid = {p.id: p.shown for p in grid.people}  # one name for one person on this screen
        names = (", ".join(in_grid.get(a.id, a.shown) for a in attending)
                 or "nobody listed yet: press + to add who is here")
        self.query_one("#pg-attending", Static).update(
            Text.assemble(("Attending the meeting: ", "bold"), literal(names)))
        table = self.table
        row, column = table.cursor_coordinate
        table.clear(columns=True)
        table.add_column("Participant", width=NAME_WIDTH, key="who")
        for d in grid.domains:
            table.add_column(d.short, width=GRADE_WIDTH, key=d.key)
        for person in grid.people:
            table.add_row(literal(person.shown), *(self._cell(person.id, d.key) for d in grid.domains),
                          key=str(person.id))
        if grid.people:
            table.move_cursor(row=min(row, len(grid.people) - 1), column=max(1, min(column, len(grid.domains))))
        scale = "  ".join(f"{i + 1} {label}" for i, label in enumerate(grid.scale))
        domains = " · ".join(f"{d.short} = {d.label}" for d in grid.domains if d.short != d.label)
        self.query_one("#pg-legend", Static).update(literal(f"{scale}\n{domains}"))
        table.focus()
        self._show_status()

    def _cell(self, person_id: uuid.UUID, domain: str) -> Text:
        assert self.grid is not None
        grade = self.pending.get((person_id, domain), self.grid.grades.get((person_id, domain)))
        return literal("·" if grade is None else str(grade + 1), "bold" if grade is not None else "dim")

    def _show_status(self) -> None:
        if not self.is_mounted:
            return
        waiting = self.saves.waiting
        line = (f"Not saved: {waiting} grade{'s' if waiting != 1 else ''} waiting" if waiting
                else "Saved · arrows move, 1-4 grade the highlighted cell, 0 clears")
        self.query_one("#pg-status", Static).update(literal(line, "bold" if waiting else ""))

    # --- grading -------------------------------------------------------------------------------

    def _highlighted(self) -> tuple[uuid.UUID, str] | None:
        grid, table = self.grid, self.table
        if grid is None or not grid.people:
            return None
        row, column = table.cursor_coordinate
        if column == 0 or column > len(grid.domains) or row >= len(grid.people):
            return None
        return grid.people[row].id, grid.domains[column - 1].key

    def action_grade(self, grade: int | None) -> None:
        from qa_tui.services.audits.participants import set_participant_grade

        grid, cell = self.grid, self._highlighted()
        if grid is None or cell is None:
            self.notify("Move to a domain's column first (the arrows).", severity="warning")
            return
        if not grid.editable:
            self.notify("This audit is no longer a draft: its grades cannot change.", severity="warning")
            return
        if grade is not None and grade >= len(grid.scale):
            return
        person_id, domain = cell
        audit_id = self.audit_id
        self.pending[cell] = grade
        self.table.update_cell_at(self.table.cursor_coordinate, self._cell(person_id, domain))

        def stored(state: Any) -> None:
            self.version = state.version
            self.grid = grid_with(self.grid, cell, grade)
            if self.saves.waiting <= 1:
                self.pending.pop(cell, None)

        self.saves.add(lambda s: set_participant_grade(s, audit_id, person_id, domain, grade,
                                                       expected_version=self.version),
                       stored, key=f"{person_id}:{domain}", value=grade)
        row, column = self.table.cursor_coordinate
        if column < len(grid.domains):
            self.table.move_cursor(row=row, column=column + 1)  # on to the next domain

    def _save_failed(self, error: BaseException) -> bool:
        if isinstance(error, REFUSED):
            self.notify(str(error), severity="error", markup=False)
            self.pending.clear()
            self.load()
            return True
        return False

    # --- attendance ----------------------------------------------------------------------------

    def action_add_attendee(self) -> None:
        if self.draw_id is None:
            self.notify("Attendance is kept for a live audit meeting.", severity="warning")
            return
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, self.team_id
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id)
                          + people_for_picking(s, ctx.today()), self._ask_attendee)

    def _ask_attendee(self, people: list[PersonRef]) -> None:
        here = {a.id for a in self.attending}
        seen: set[uuid.UUID] = set()
        options = []
        for p in people:  # the team first, then everyone else
            if p.id not in here and p.id not in seen:
                seen.add(p.id)
                options.append((p.id, f"{p.name} ({p.staff_id}, {p.role})"))
        self.app.push_screen(ChoiceDialog("Who else is at the meeting?", options),
                             lambda person_id: person_id is not None and self._set_attendance(
                                 [*(a.id for a in self.attending), person_id]))

    def action_remove_attendee(self) -> None:
        grid = self.grid
        if grid is None or not grid.people or self.draw_id is None:
            return
        person = grid.people[min(self.table.cursor_coordinate.row, len(grid.people) - 1)]
        if person.id not in {a.id for a in self.attending}:
            self.notify(f"{person.name} is not on the attendance list.", markup=False)
            return
        self._set_attendance([a.id for a in self.attending if a.id != person.id])

    def _set_attendance(self, ids: list[uuid.UUID]) -> None:
        from qa_tui.services.audits.participants import set_meeting_attendance

        draw_id, login = self.draw_id, self.ctx.login
        assert draw_id is not None
        self.saves.add(lambda s: set_meeting_attendance(s, draw_id, ids, login), lambda _: self.load())

    def action_back(self) -> None:
        self.saves.when_idle(self.dismiss)

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Participants: add attendee", "Someone else is at the meeting", self.action_add_attendee)
        yield SystemCommand("Participants: not attending", "Take the highlighted person off the attendance list",
                            self.action_remove_attendee)


def grid_with(grid: ParticipantGrid | None, cell: tuple[uuid.UUID, str], grade: int | None) -> ParticipantGrid | None:
    """The grid with one grade changed, as stored."""
    if grid is None:
        return None
    return replace(grid, grades={**grid.grades, cell: grade})
