"""Meeting mode: one drawn case at a time on the projector, edited in the shared audit editor, with
what only a meeting has around it: moving between cases, the meeting bar, participants' own
grades, the place kept so a killed session resumes where it was, and ending the meeting."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from qa_tui.widgets.grades import OVERALL, GradeRow
from qa_tui.widgets.literal import literal
from screens.audits.editor import AuditEditor
from screens.audits.meeting_summary import MeetingSummaryScreen
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.meeting import MeetingPlan, ResumePoint
    from qa_tui.services.audits.record import AuditDTO, DomainGrades
    from qa_tui.services.people.directory import PersonRef


def participant_note(grades: DomainGrades) -> str:
    """Each participant's own grade beside the agreed one, by first name (full names where two
    share one)."""
    from qa_tui.services.audits.participants import shown_names

    names = shown_names((p.participant.id, p.participant.name, p.participant.staff_id) for p in grades.by_participant)
    return ", ".join(f"{names[p.participant.id]} {p.grade + 1}" for p in grades.by_participant
                     if p.grade is not None)


class MeetingScreen(QAScreen):
    CSS_PATH = "meeting.tcss"
    BINDINGS = [
        Binding("n,pagedown", "step(1)", "Next/prev", key_display="n/p", id="next-case",
                tooltip="Save and go to the next drawn case (p: the one before)"),
        Binding("p,pageup", "step(-1)", "Prev case", show=False, id="prev-case", tooltip="Save and go back one case"),
        Binding("v", "participant_grade", "Participant", id="participant-grade",
                tooltip="Record one participant's own grade for the highlighted domain"),
        Binding("P", "participant_grid", "Participants", show=False, id="participant-grid",
                tooltip="Who attends, and every participant's grade for every domain in one grid"),
        Binding("e", "end_meeting", "End", id="end-meeting",
                tooltip="Grades, actions and what goes to moderation, case by case"),
        Binding("escape", "back", "Back", id="back", tooltip="Back to the draw, once everything is saved"),
    ]

    def __init__(self, plan: MeetingPlan, index: int, *, resume: ResumePoint | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.index = index
        self.resume = resume
        self.audit_ids: dict[int, uuid.UUID] = {i: c.audit_id for i, c in enumerate(plan.cases) if c.audit_id}

    def compose(self) -> ComposeResult:
        yield Static("", id="meeting-bar")
        yield AuditEditor(id="meeting-editor", notes_title="Actions", grade_note=participant_note)
        yield Footer()

    @property
    def editor(self) -> AuditEditor:
        return self.query_one(AuditEditor)

    def on_mount(self) -> None:
        self.open_current()

    # --- loading a case ----------------------------------------------------------------------

    def open_current(self) -> None:
        from qa_tui.services.audits.meeting import open_case
        from qa_tui.services.audits.record import get_audit

        ctx, case, draw = self.ctx, self.plan.cases[self.index], self.plan.draw
        job: Callable[[Session], AuditDTO]
        if self.index in self.audit_ids:
            audit_id = self.audit_ids[self.index]
            job = lambda s: get_audit(s, audit_id, today=ctx.today(), cfg=ctx.config)  # noqa: E731
        else:
            job = lambda s: open_case(s, case, draw=draw, auditor_id=ctx.person_id, participants=[],  # noqa: E731
                                      today=ctx.today(), cfg=ctx.config)
        self.editor.begin_loading()
        self.call_service(job, self.show_audit, write=True, group="open-case", exclusive=True)

    def show_audit(self, audit: AuditDTO) -> None:
        self.audit_ids[self.index] = audit.id
        pick = self.plan.cases[self.index].pick
        worker = audit.worker.name if audit.worker else pick.worker_name
        self.query_one("#meeting-bar", Static).update(Text.assemble(
            literal(f"Case {self.index + 1} of {len(self.plan.cases)}", "bold"), "  ·  Worker ", literal(worker, "bold"),
            literal(f" ({pick.role})  ·  Case "), literal(audit.case_reference, "bold"),
            literal(f" {audit.case_category}  ·  "), literal(f" {audit.status.upper()} ", "reverse")))
        self.editor.show(audit)
        if self.resume is not None:
            self._apply_resume(self.resume)
            self.resume = None
        self.keep_position()

    def _apply_resume(self, point: ResumePoint) -> None:
        if point.field and point.text:
            self.editor.put_text(point.field, point.text)
        self.notify("Resumed where the meeting stopped.")

    @on(AuditEditor.NeedsReload)
    def _reload(self) -> None:
        self.open_current()

    # --- the meeting's place, kept for a resume ----------------------------------------------

    @on(AuditEditor.Editing)
    def _editing(self, event: AuditEditor.Editing) -> None:
        self.keep_position(event.field, event.text)

    def keep_position(self, field: str = "", text: str = "") -> None:
        """Remember where the meeting is (and any text being typed) for a resume after a crash."""
        if self.plan.draw is None:
            return
        from qa_tui.services.audits.meeting import keep_position

        login, draw_id, index = self.ctx.login, self.plan.draw.id, self.index
        audit_id = self.editor.audit.id if self.editor.audit else None
        self.call_service(lambda s: keep_position(s, login, draw_id=draw_id, index=index, field=field, text=text,
                                                  audit_id=audit_id), write=True, group="position")

    # --- participants' own grades --------------------------------------------------------------

    def action_participant_grade(self) -> None:
        audit, row = self.editor.audit, self.editor.grades.current
        if audit is None or row is None or row.key == OVERALL or audit.status != "draft":
            return
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, self.plan.team.id
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id),
                          lambda people: self._ask_participant(row, people))

    def _ask_participant(self, row: GradeRow, people: list[PersonRef]) -> None:
        audit = self.editor.audit
        if audit is None:
            return
        scale, audit_id = audit.template.scale, audit.id
        from qa_tui.services.audits.record import set_grade

        def grade_chosen(person_id: uuid.UUID, grade: int | None) -> None:
            if grade is not None:
                self.editor.write(lambda s, v: set_grade(s, audit_id, row.key, grade, participant_id=person_id,
                                                         expected_version=v),
                                  lambda _: self.open_current(), field=f"grade:{row.key}:{person_id}", value=grade)

        def person_chosen(person_id: uuid.UUID | None) -> None:
            if person_id is not None:
                self.app.push_screen(ChoiceDialog(f"Their grade for {row.label}",
                                                  [(i, f"{i + 1} {label}") for i, label in enumerate(scale)]),
                                     lambda g: grade_chosen(person_id, g))

        self.app.push_screen(ChoiceDialog(f"Whose grade for {row.label}?",
                                          [(p.id, f"{p.name} ({p.role})") for p in people]), person_chosen)

    def action_participant_grid(self) -> None:
        from screens.audits.participants import ParticipantGridScreen

        audit, draw_id = self.editor.audit, self.plan.draw.id if self.plan.draw else None
        if audit is None:
            return
        grid = ParticipantGridScreen(audit.id, draw_id, self.plan.team.id, audit.case_reference)
        self.editor.leave(lambda: self.app.push_screen(grid, lambda _: self.open_current()))

    # --- navigation ------------------------------------------------------------------------

    def action_step(self, step: int) -> None:
        target = self.index + step
        if not 0 <= target < len(self.plan.cases):
            self.notify("That was the last case: press e to end the meeting." if step > 0 else "This is the first case.")
            return
        self.index = target
        self.open_current()

    def action_back(self) -> None:
        self.editor.leave(self.app.pop_screen)

    def action_end_meeting(self) -> None:
        def summary_closed(finished: bool | None) -> None:
            if finished:
                self.editor.leave(self.app.pop_screen)

        self.editor.save_typing()
        self.app.push_screen(MeetingSummaryScreen(self.plan, list(self.audit_ids.values())), summary_closed)

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        editor = self.editor
        yield SystemCommand("Meeting: next case", "Go to the next drawn case", lambda: self.action_step(1))
        yield SystemCommand("Meeting: previous case", "Go back one case", lambda: self.action_step(-1))
        yield SystemCommand("Meeting: add action", "Raise an action with an owner and due date", editor.action_add_action)
        yield SystemCommand("Meeting: finding for supervision", "Put a finding on the worker's agenda",
                            editor.action_finding)
        yield SystemCommand("Meeting: submit for moderation", "Send this audit to moderation", editor.action_submit)
        yield SystemCommand("Meeting: participants' grades", "Who attends, and everyone's grades in one grid",
                            self.action_participant_grid)
        yield SystemCommand("Meeting: audit history", "Who changed this audit, when, old → new", editor.action_history)
        yield SystemCommand("Meeting: end and summarise", "Grades, actions and what goes to moderation",
                            self.action_end_meeting)
