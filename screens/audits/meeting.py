"""Meeting mode: one drawn case at a time on the projector, graded with single keys, every field
saved as it is entered, and the meeting's place kept so a killed session resumes where it was."""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Footer, Static, TextArea

from qa_tui.widgets.grades import GradeList, GradeRow
from screens.base import QAScreen
from screens.dialogs import ActionDialog, ActionInput, ChoiceDialog, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.record import AuditDTO
    from qa_tui.services.audits.meeting import MeetingPlan, ResumePoint

TEXT_FIELDS = (("strengths", "Strengths"), ("to_improve", "What to improve"),
               ("lived_experience", "The child's lived experience"))
OVERALL = "__overall__"
SAVE_AFTER_SECONDS = 0.6


class MeetingScreen(QAScreen):
    CSS_PATH = "meeting.tcss"
    BINDINGS = [
        Binding("n,pagedown", "step(1)", "Next case", id="next-case"),
        Binding("p,pageup", "step(-1)", "Prev case", id="prev-case"),
        Binding("1", "grade(0)", "Grade 1-4", id="grade"),
        Binding("2", "grade(1)", show=False),
        Binding("3", "grade(2)", show=False),
        Binding("4", "grade(3)", show=False),
        Binding("5", "grade(4)", show=False),
        Binding("0,delete", "grade(None)", show=False),
        Binding("g", "jump('grades')", "Grades", id="jump-grades"),
        Binding("w", "jump('strengths')", "Strengths", id="jump-strengths"),
        Binding("i", "jump('to_improve')", "Improve", id="jump-improve"),
        Binding("c", "jump('lived_experience')", "Child's exp.", id="jump-lived"),
        Binding("a", "add_action", "Action", id="add-action"),
        Binding("f", "finding", "Finding", id="finding"),
        Binding("v", "participant_grade", "Participant grade", id="participant-grade"),
        Binding("u", "submit", "Submit", id="submit"),
        Binding("e", "end_meeting", "End meeting", id="end-meeting"),
        Binding("escape", "leave_field", "Back", id="back"),
        Binding("R", "reload", "Reload", show=False, id="reload"),
    ]

    def __init__(self, plan: MeetingPlan, index: int, *, resume: ResumePoint | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.index = index
        self.resume = resume
        self.audit: AuditDTO | None = None
        self.audit_ids: dict[int, uuid.UUID] = {i: c.audit_id for i, c in enumerate(plan.cases) if c.audit_id}
        self._save_queue: deque[Callable[[], None]] = deque()
        self._saving = False
        self._text_timer: Timer | None = None
        self._loading = False

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="meeting-bar")
        with Horizontal(id="meeting-body"):
            with Vertical(id="meeting-left"):
                grades = GradeList(id="meeting-grades")
                grades.border_title = "Grades (agreed)"
                yield grades
                actions = Static("", id="meeting-actions")
                actions.border_title = "Actions"
                yield actions
            with Vertical(id="meeting-right"):
                for field, label in TEXT_FIELDS:
                    area = TextArea(id=f"field-{field}", soft_wrap=True, show_line_numbers=False)
                    area.border_title = label
                    yield area
        yield Static("", id="meeting-status")
        yield Footer()

    def on_mount(self) -> None:
        self.open_current()

    # --- loading a case ----------------------------------------------------------------------

    def open_current(self) -> None:
        from qa_tui.services.audits.meeting import open_case

        ctx, case, draw = self.ctx, self.plan.cases[self.index], self.plan.draw
        if self.index in self.audit_ids:
            from qa_tui.services.audits.record import get_audit

            audit_id = self.audit_ids[self.index]
            job: Callable[[Session], AuditDTO] = lambda s: get_audit(s, audit_id, today=ctx.today(), cfg=ctx.config)
        else:
            job = lambda s: open_case(s, case, draw=draw, auditor_id=ctx.person_id, participants=[],  # noqa: E731
                                      today=ctx.today(), cfg=ctx.config)
        self._loading = True
        self.call_service(job, self.show_audit, write=True, group="open-case", exclusive=True)

    def show_audit(self, audit: AuditDTO) -> None:
        new_case = self.audit is None or self.audit.id != audit.id
        self.audit = audit
        self.audit_ids[self.index] = audit.id
        pick = self.plan.cases[self.index].pick
        worker = audit.worker.name if audit.worker else pick.worker_name
        self.query_one("#meeting-bar", Static).update(
            f"[b]Case {self.index + 1} of {len(self.plan.cases)}[/b]  ·  Worker [b]{worker}[/b] ({pick.role})"
            f"  ·  Case [b]{audit.case_reference}[/b] {audit.case_category}  ·  [reverse] {audit.status.upper()} [/]")
        scale = audit.template.scale
        rows = [GradeRow(g.domain, g.label, g.agreed, self._participant_note(g)) for g in audit.grades]
        rows.append(GradeRow(OVERALL, "Overall grade", audit.overall_grade))
        grade_list = self.query_one("#meeting-grades", GradeList)
        if new_case:
            grade_list.cursor = 0
        grade_list.set_rows(rows, scale)
        grade_list.border_subtitle = "  ".join(f"{i + 1} {label}" for i, label in enumerate(scale))
        for field, _ in TEXT_FIELDS:
            area = self.query_one(f"#field-{field}", TextArea)
            value = getattr(audit, field)
            if area.text != value:
                area.load_text(value)
            area.read_only = audit.status != "draft"
        self.show_actions(audit)
        self._loading = False
        if self.resume is not None:
            self._apply_resume(self.resume)
            self.resume = None
        elif not any(a.has_focus for a in self.query(TextArea)):
            grade_list.focus()
        self.keep_position()

    def _participant_note(self, grades: Any) -> str:
        own = [f"{p.participant.name.split()[0]} {p.grade + 1}" for p in grades.by_participant if p.grade is not None]
        return ", ".join(own)

    def show_actions(self, audit: AuditDTO) -> None:
        lines = [f"• {a.title[:28]} — {a.owner_name.split()[0] if a.owner_name else '?'}, {a.due_on:%-d %b}"
                 for a in audit.actions]
        self.query_one("#meeting-actions", Static).update("\n".join(lines) or "[dim]None yet: press a[/dim]")
        late = " · [b $error]past the moderation deadline[/]" if audit.past_moderation_deadline else ""
        self.query_one("#meeting-status", Static).update(
            f"Saved · version {audit.version} · moderation by {audit.moderation_deadline:%-d %b}{late}")

    def _apply_resume(self, point: ResumePoint) -> None:
        if point.field and point.text:
            area = self.query_one(f"#field-{point.field}", TextArea)
            if area.text != point.text:
                area.load_text(point.text)
                self._queue_text_save(point.field, point.text)
            area.focus()
            area.move_cursor(area.document.end)
        else:
            self.query_one("#meeting-grades", GradeList).focus()
        self.notify("Resumed where the meeting stopped.")

    # --- saving, one write at a time ---------------------------------------------------------

    def _enqueue(self, job: Callable[[Session, int | None], Any], then: Callable[[Any], None] | None = None) -> None:
        def start() -> None:
            version = self.audit.version if self.audit else None
            self.call_service(lambda s: job(s, version), lambda result: self._saved(result, then),
                              write=True, group="save", on_error=self._save_failed)

        self._save_queue.append(start)
        self._pump()

    def _pump(self) -> None:
        if not self._saving and self._save_queue:
            self._saving = True
            self._save_queue.popleft()()

    def _saved(self, result: Any, then: Callable[[Any], None] | None) -> None:
        self._saving = False
        version = getattr(result, "version", None)
        if self.audit is not None and version is not None and getattr(result, "id", None) == self.audit.id:
            from dataclasses import replace

            self.audit = replace(self.audit, version=version)
            self.query_one("#meeting-status", Static).update(f"Saved · version {version}")
        if then is not None:
            then(result)
        self._pump()

    def _save_failed(self, error: BaseException) -> bool:
        self._saving = False
        self._save_queue.clear()
        from qa_tui.errors import ChangedElsewhere

        if isinstance(error, ChangedElsewhere):
            self.notify(f"{error} Press R to reload this case.", severity="error", timeout=15)
            return True
        return False

    def action_reload(self) -> None:
        self.open_current()

    # --- grading ---------------------------------------------------------------------------

    def action_grade(self, grade: int | None) -> None:
        grade_list = self.query_one("#meeting-grades", GradeList)
        row = grade_list.current
        if self.audit is None or row is None or self._loading:
            return
        if self.audit.status != "draft":
            self.notify("Only a draft can be graded; this audit has been submitted.", severity="warning")
            return
        if grade is not None and grade >= len(self.audit.template.scale):
            return
        from qa_tui.services.audits.record import set_grade, set_overall_grade

        audit_id = self.audit.id
        if row.key == OVERALL:
            self._enqueue(lambda s, v: set_overall_grade(s, audit_id, grade, expected_version=v))
        else:
            key = row.key
            self._enqueue(lambda s, v: set_grade(s, audit_id, key, grade, expected_version=v))
        rows = [GradeRow(r.key, r.label, grade, r.note) if r.key == row.key else r for r in grade_list.rows]
        grade_list.set_rows(rows, grade_list.scale)
        if grade is not None:
            grade_list.action_move(1) if grade_list.cursor < len(rows) - 1 else None

    def action_participant_grade(self) -> None:
        row = self.query_one("#meeting-grades", GradeList).current
        if self.audit is None or row is None or row.key == OVERALL or self.audit.status != "draft":
            return
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, self.plan.team.id
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id),
                          lambda people: self._ask_participant(row, people))

    def _ask_participant(self, row: GradeRow, people: list[Any]) -> None:
        assert self.audit is not None
        scale = self.audit.template.scale
        audit_id = self.audit.id
        from qa_tui.services.audits.record import set_grade

        def grade_chosen(person_id: uuid.UUID, grade: int | None) -> None:
            if grade is not None:
                self._enqueue(lambda s, v: set_grade(s, audit_id, row.key, grade, participant_id=person_id,
                                                     expected_version=v), lambda _: self.open_current())

        def person_chosen(person_id: uuid.UUID | None) -> None:
            if person_id is not None:
                self.app.push_screen(ChoiceDialog(f"Their grade for {row.label}",
                                                  [(i, f"{i + 1} {label}") for i, label in enumerate(scale)]),
                                     lambda g: grade_chosen(person_id, g))

        self.app.push_screen(ChoiceDialog(f"Whose grade for {row.label}?",
                                          [(p.id, f"{p.name} ({p.role})") for p in people]), person_chosen)

    # --- text fields -----------------------------------------------------------------------

    def action_jump(self, target: str) -> None:
        if target == "grades":
            self.query_one("#meeting-grades", GradeList).focus()
        else:
            self.query_one(f"#field-{target}", TextArea).focus()
        self.keep_position()

    def action_leave_field(self) -> None:
        if isinstance(self.focused, TextArea):
            self.query_one("#meeting-grades", GradeList).focus()
        else:
            self.app.pop_screen()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._loading or self.audit is None or event.text_area.read_only:
            return
        field = (event.text_area.id or "").removeprefix("field-")
        if self._text_timer is not None:
            self._text_timer.stop()
        text = event.text_area.text
        self._text_timer = self.set_timer(SAVE_AFTER_SECONDS, lambda: self._queue_text_save(field, text))

    def on_descendant_blur(self, event: Any) -> None:
        widget = event.widget if hasattr(event, "widget") else None
        if isinstance(widget, TextArea) and self.audit is not None and not widget.read_only:
            field = (widget.id or "").removeprefix("field-")
            if getattr(self.audit, field, None) != widget.text:
                if self._text_timer is not None:
                    self._text_timer.stop()
                self._queue_text_save(field, widget.text)

    def _queue_text_save(self, field: str, text: str) -> None:
        if self.audit is None:
            return
        from dataclasses import replace

        from qa_tui.services.audits.record import set_text

        audit_id = self.audit.id
        self.audit = replace(self.audit, **{field: text})
        self._enqueue(lambda s, v: set_text(s, audit_id, field, text, expected_version=v))
        self.keep_position(field, text)

    def keep_position(self, field: str = "", text: str = "") -> None:
        """Remember where the meeting is (and any text being typed) for a resume after a crash."""
        if self.plan.draw is None:
            return
        from qa_tui.services.audits.meeting import keep_position

        focused = self.focused
        if not field and isinstance(focused, TextArea):
            field, text = (focused.id or "").removeprefix("field-"), focused.text
        login, draw_id, index = self.ctx.login, self.plan.draw.id, self.index
        audit_id = self.audit.id if self.audit else None
        self.call_service(lambda s: keep_position(s, login, draw_id=draw_id, index=index, field=field, text=text,
                                                  audit_id=audit_id), write=True, group="position")

    # --- navigation ------------------------------------------------------------------------

    def action_step(self, step: int) -> None:
        target = self.index + step
        if not 0 <= target < len(self.plan.cases):
            self.notify("That was the last case: press e to end the meeting." if step > 0 else "This is the first case.")
            return
        self._flush_text()
        self.index = target
        self.open_current()

    def _flush_text(self) -> None:
        if self._text_timer is not None:
            self._text_timer.stop()
            self._text_timer = None
        if self.audit is None:
            return
        for field, _ in TEXT_FIELDS:
            area = self.query_one(f"#field-{field}", TextArea)
            if not area.read_only and getattr(self.audit, field) != area.text:
                self._queue_text_save(field, area.text)

    # --- actions, findings, submission -------------------------------------------------------

    def action_add_action(self) -> None:
        if self.audit is None:
            return
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, self.plan.team.id
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id), self._ask_action)

    def _ask_action(self, people: list[Any]) -> None:
        audit = self.audit
        if audit is None:
            return
        ctx = self.ctx
        owners = [(p.id, f"{p.name} ({p.role})") for p in people]
        worker_id = audit.worker.id if audit.worker else None
        due = ctx.today() + timedelta(weeks=ctx.config.deadlines.action_due_weeks)
        from qa_tui.services.audits.actions import add_action

        def saved(form: ActionInput | None) -> None:
            if form is None:
                return
            self.call_service(
                lambda s: add_action(s, title=form.title, owner_id=form.owner_id, due_on=form.due_on,
                                     raised_by_id=ctx.person_id, source_kind="audit", audit_id=audit.id,
                                     case_id=audit.case_id, team_id=audit.team_id, today=ctx.today(), cfg=ctx.config),
                lambda _: (self.notify("Action added."), self.open_current()), write=True)

        self.app.push_screen(ActionDialog(owners, worker_id, due, f"for {audit.case_reference}"), saved)

    def action_finding(self) -> None:
        audit = self.audit
        if audit is None:
            return
        from qa_tui.services.audits.record import mark_finding_for_supervision

        ctx = self.ctx
        name = audit.worker.name if audit.worker else "the worker"

        def saved(summary: str | None) -> None:
            if summary:
                self.call_service(lambda s: mark_finding_for_supervision(s, audit.id, summary, ctx.today()),
                                  lambda _: self.notify(f"Added to {name}'s next supervision agenda."), write=True)

        self.app.push_screen(TextPrompt(f"Finding for {name}'s next supervision", "What to discuss",
                                        placeholder="e.g. Strong direct work; record the child's words verbatim"),
                             saved)

    def action_submit(self) -> None:
        audit = self.audit
        if audit is None or audit.status != "draft":
            return
        self._flush_text()
        from qa_tui.services.audits.record import submit_for_moderation

        ctx = self.ctx

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._enqueue(lambda s, v: submit_for_moderation(s, audit.id, ctx.today(), expected_version=v),
                              lambda _: (self.notify("Sent for moderation."), self.open_current()))

        self.app.push_screen(ConfirmDialog(f"Send the audit of {audit.case_reference} for moderation?",
                                           f"It must reach moderation by {audit.moderation_deadline:%-d %B}. "
                                           "After this it can no longer be edited here."), confirmed)

    def action_end_meeting(self) -> None:
        self._flush_text()
        from screens.audits.meeting_summary import MeetingSummaryScreen

        self.app.push_screen(MeetingSummaryScreen(self.plan, list(self.audit_ids.values())))

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Meeting: next case", "Go to the next drawn case", lambda: self.action_step(1))
        yield SystemCommand("Meeting: previous case", "Go back one case", lambda: self.action_step(-1))
        yield SystemCommand("Meeting: add action", "Raise an action with an owner and due date", self.action_add_action)
        yield SystemCommand("Meeting: finding for supervision", "Put a finding on the worker's agenda", self.action_finding)
        yield SystemCommand("Meeting: submit for moderation", "Send this audit to moderation", self.action_submit)
        yield SystemCommand("Meeting: end and summarise", "Grades, actions and what goes to moderation",
                            self.action_end_meeting)
