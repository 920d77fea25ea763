"""The audit form for every kind beyond the live meeting (themed, multi-agency, closure,
supervision-file, cross-service): single-key grades, text saved as it is typed, what the kind adds
beside the grades, actions, findings, good practice and sending for moderation."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, TextArea

from qa_tui.widgets.grades import GradeList, GradeRow
from qa_tui.widgets.save_queue import SaveQueue
from screens.base import QAScreen
from screens.dialogs import (
    ActionDialog,
    ActionInput,
    ChoiceDialog,
    ConfirmDialog,
    TextPrompt,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.kinds import AuditFormContext
    from qa_tui.services.audits.record import AuditDTO

# The jump keys are shown on each field's border rather than in a crowded footer.
TEXT_FIELDS = (("strengths", "Strengths (w)"), ("to_improve", "What to improve (i)"),
               ("lived_experience", "The child's lived experience (c)"))
OVERALL = "__overall__"


class AuditFormScreen(QAScreen):
    """One audit of any kind, saved field by field as it is entered."""

    CSS_PATH = "audit_form.tcss"
    BINDINGS = [
        Binding("1", "grade(0)", "Grade", id="af-grade"),
        Binding("2", "grade(1)", show=False),
        Binding("3", "grade(2)", show=False),
        Binding("4", "grade(3)", show=False),
        Binding("5", "grade(4)", show=False),
        Binding("0,delete", "grade(None)", show=False),
        Binding("g", "jump('grades')", "Grades", show=False, id="af-jump-grades"),
        Binding("w", "jump('strengths')", "Strengths", show=False, id="af-jump-strengths"),
        Binding("i", "jump('to_improve')", "Improve", show=False, id="af-jump-improve"),
        Binding("c", "jump('lived_experience')", "Child's exp.", show=False, id="af-jump-lived"),
        Binding("a", "add_action", "Action", id="af-action"),
        Binding("f", "finding", "Finding", id="af-finding"),
        Binding("e", "agency_finding", "Agency finding", id="af-agency"),
        Binding("asterisk", "good_practice", "Good practice", id="af-good-practice"),
        Binding("u", "submit", "Submit", id="af-submit"),
        Binding("escape", "back", "Back", id="af-back"),
        Binding("R", "reload", "Reload", show=False, id="af-reload"),
    ]

    def __init__(self, audit_id: uuid.UUID) -> None:
        super().__init__()
        self.audit_id = audit_id
        self.context: AuditFormContext | None = None
        self.audit: AuditDTO | None = None
        self.saves = SaveQueue(self, self._save_failed)
        self._loading = True

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="af-bar")
        with Horizontal(id="af-body"):
            with Vertical(id="af-left"):
                grades = GradeList(id="af-grades")
                grades.border_title = "Grades (g)"
                yield grades
                notes = Static("", id="af-notes")
                notes.border_title = "About this audit"
                yield notes
            with Vertical(id="af-right"):
                for field, label in TEXT_FIELDS:
                    area = TextArea(id=f"af-{field}", soft_wrap=True, show_line_numbers=False)
                    area.border_title = label
                    yield area
        yield Static("", id="af-status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    # --- loading ---------------------------------------------------------------------------

    def action_reload(self) -> None:
        from qa_tui.services.audits.kinds import form_context

        ctx, audit_id = self.ctx, self.audit_id
        self._loading = True
        self.call_service(lambda s: form_context(s, audit_id, today=ctx.today(), cfg=ctx.config), self.show,
                          group="audit-form", exclusive=True)

    def show(self, context: AuditFormContext) -> None:
        first = self.audit is None
        self.context, self.audit = context, context.audit
        audit = context.audit
        self.query_one("#af-bar", Static).update(
            f"[b]{context.kind_name}[/b] · {context.subject}\n"
            f"{audit.template.name} · {audit.audit_date:%-d %b %Y} · auditor {audit.auditor.name if audit.auditor else '—'}"
            f" · [reverse] {audit.status.upper()} [/]")
        grades = self.query_one("#af-grades", GradeList)
        rows = [GradeRow(g.domain, g.label, g.agreed) for g in audit.grades]
        rows.append(GradeRow(OVERALL, "Overall", audit.overall_grade))
        grades.set_rows(rows, audit.template.scale)
        grades.border_subtitle = "  ".join(f"{i + 1} {label}" for i, label in enumerate(audit.template.scale))
        for field, _ in TEXT_FIELDS:
            area = self.query_one(f"#af-{field}", TextArea)
            area.display = not (field == "lived_experience" and audit.case_id is None)
            if area.text != getattr(audit, field):
                area.load_text(getattr(audit, field))
            area.read_only = audit.status != "draft"
        self.show_notes(context)
        self._loading = False
        self.refresh_bindings()
        if first:
            grades.focus()
        self._status(self._saved_line(audit.version))

    def show_notes(self, context: AuditFormContext) -> None:
        lines = list(context.notes)
        for f in context.findings:
            learning = f" [i]Learning:[/i] {f.learning}" if f.learning else ""
            lines.append(f"[b]{f.agency}[/b]: {f.finding}{learning}")
        if context.good_practice is not None:
            lines.append(f"[b]★ Good practice[/b]: {context.good_practice.why}")
        actions = self.audit.actions if self.audit else ()
        lines += [f"• {a.title[:40]} — {a.owner_name or '?'} by {a.due_on:%-d %b}" for a in actions]
        self.query_one("#af-notes", Static).update("\n".join(lines) or "[dim]Nothing more to show.[/dim]")

    def _saved_line(self, version: int) -> str:
        audit = self.audit
        if audit is None:
            return ""
        if audit.status != "draft":
            return f"{audit.status.capitalize()}: this audit can no longer be edited here."
        graded = sum(g.agreed is not None for g in audit.grades)
        return f"Saved · version {version} · {graded} of {len(audit.grades)} graded · moderation by {audit.moderation_deadline:%-d %b}"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        audit = self.audit
        if action == "agency_finding":
            return audit is not None and audit.kind == "multi_agency" and audit.status != "finalised"
        if action in ("submit", "grade") and audit is not None and audit.status != "draft":
            return None
        # A supervision file has no child: no lived-experience field to jump to.
        return not (action == "jump" and parameters == ("lived_experience",) and audit is not None
                    and audit.case_id is None)

    # --- saving, one write at a time -----------------------------------------------------------

    def _write(self, job: Any, then: Any = None) -> None:
        """Queue a save that starts from the version the previous save left."""

        def run(session: Session) -> Any:
            assert self.audit is not None
            return job(session, self.audit.version)

        def done(state: Any) -> None:
            if self.audit is not None and getattr(state, "id", None) == self.audit.id:
                self.audit = replace(self.audit, version=state.version, status=state.status)
                self._status(self._saved_line(state.version))
            if then is not None:
                then(state)

        self.saves.add(run, done)

    def _save_failed(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere, ValidationError

        if isinstance(error, ChangedElsewhere):
            self._status(f"{error} Press R to reload.")
            return True
        if isinstance(error, ValidationError):
            self._status(f"Not done: {error}.")
            self.notify(str(error), severity="warning", timeout=8)
            return True
        return False

    def _status(self, text: str) -> None:
        self.query_one("#af-status", Static).update(text)

    # --- grading and text ------------------------------------------------------------------

    def action_grade(self, grade: int | None) -> None:
        grades = self.query_one("#af-grades", GradeList)
        row, audit = grades.current, self.audit
        if audit is None or row is None or self._loading or audit.status != "draft":
            return
        if grade is not None and grade >= len(audit.template.scale):
            return
        from qa_tui.services.audits.record import set_grade, set_overall_grade

        audit_id, key = audit.id, row.key
        if key == OVERALL:
            self._write(lambda s, v: set_overall_grade(s, audit_id, grade, expected_version=v))
        else:
            self._write(lambda s, v: set_grade(s, audit_id, key, grade, expected_version=v))
        grades.set_rows([GradeRow(r.key, r.label, grade, r.note) if r.key == key else r for r in grades.rows],
                        grades.scale)
        self._remember_grade(key, grade)
        if grade is not None and grades.cursor < len(grades.rows) - 1:
            grades.action_move(1)

    def _remember_grade(self, key: str, grade: int | None) -> None:
        audit = self.audit
        assert audit is not None
        if key == OVERALL:
            self.audit = replace(audit, overall_grade=grade)
        else:
            self.audit = replace(audit, grades=tuple(replace(g, agreed=grade) if g.domain == key else g
                                                     for g in audit.grades))

    def action_jump(self, target: str) -> None:
        if target == "grades":
            self.query_one("#af-grades", GradeList).focus()
        else:
            self.query_one(f"#af-{target}", TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self._loading or self.audit is None or event.text_area.read_only:
            return
        field = (event.text_area.id or "").removeprefix("af-")
        self.saves.later(field, lambda: self._save_text(field))

    def on_descendant_blur(self, event: Any) -> None:
        if isinstance(getattr(event, "widget", None), TextArea):
            self.saves.flush()

    def _save_text(self, field: str) -> None:
        audit = self.audit
        if audit is None:
            return
        text = self.query_one(f"#af-{field}", TextArea).text
        if getattr(audit, field) == text:
            return
        from qa_tui.services.audits.record import set_text

        self.audit = replace(audit, **{field: text})
        audit_id = audit.id
        self._write(lambda s, v: set_text(s, audit_id, field, text, expected_version=v))

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.query_one("#af-grades", GradeList).focus()
        else:
            self.saves.when_idle(self.dismiss)

    # --- actions, findings, good practice, submission -----------------------------------------

    def action_add_action(self) -> None:
        audit = self.audit
        if audit is None:
            return
        from qa_tui.services.people.directory import people_for_picking

        ctx, team_id = self.ctx, audit.team_id
        include = [p.id for p in (audit.worker,) if p is not None]
        self.call_service(lambda s: people_for_picking(s, ctx.today(), team_id=team_id, include=include),
                          self._ask_action)

    def _ask_action(self, people: list[Any]) -> None:
        audit, ctx = self.audit, self.ctx
        if audit is None:
            return
        from qa_tui.services.audits.actions import add_action

        def saved(form: ActionInput | None) -> None:
            if form is not None:
                self.call_service(
                    lambda s: add_action(s, title=form.title, owner_id=form.owner_id, due_on=form.due_on,
                                         raised_by_id=ctx.person_id, source_kind="audit", audit_id=audit.id,
                                         case_id=audit.case_id, team_id=audit.team_id, today=ctx.today(),
                                         cfg=ctx.config),
                    lambda _: (self.notify("Action added."), self.action_reload()), write=True)

        due = ctx.today() + timedelta(weeks=ctx.config.deadlines.action_due_weeks)
        owners = [(p.id, f"{p.name} ({p.role})") for p in people]
        self.app.push_screen(ActionDialog(owners, audit.worker.id if audit.worker else None, due,
                                          f"for {audit.case_reference or 'this supervision file'}"), saved)

    def action_finding(self) -> None:
        audit = self.audit
        if audit is None or audit.worker is None:
            self.notify("This audit has no worker to take a finding to supervision.", severity="warning")
            return
        from qa_tui.services.audits.record import mark_finding_for_supervision

        today, name = self.ctx.today(), audit.worker.name

        def saved(summary: str | None) -> None:
            if summary:
                self.call_service(lambda s: mark_finding_for_supervision(s, audit.id, summary, today),
                                  lambda _: self.notify(f"Added to {name}'s next supervision agenda."), write=True)

        self.app.push_screen(TextPrompt(f"Finding for {name}'s next supervision", "What to discuss"), saved)

    def action_agency_finding(self) -> None:
        context = self.context
        if context is None or context.audit.kind != "multi_agency":
            return
        agencies = context.theme.agencies if context.theme else ()
        if agencies:
            self.app.push_screen(ChoiceDialog("Finding about which agency?", [(a, a) for a in agencies]),
                                 self._ask_finding)
        else:
            self.app.push_screen(TextPrompt("Finding about an agency", "Agency"), self._ask_finding)

    def _ask_finding(self, agency: str | None) -> None:
        context = self.context
        if not agency or context is None:
            return
        current = next((f for f in context.findings if f.agency == agency), None)

        def got_finding(finding: str | None) -> None:
            if finding:
                self.app.push_screen(
                    TextPrompt(f"Learning fed back to {agency}", "Learning (optional)",
                               initial=current.learning if current else "", required=False),
                    lambda learning: self._save_finding(agency, finding, learning or ""))

        self.app.push_screen(TextPrompt(f"What the audit found about {agency}'s part", "Finding",
                                        initial=current.finding if current else ""), got_finding)

    def _save_finding(self, agency: str, finding: str, learning: str) -> None:
        from qa_tui.services.audits.themes import set_agency_finding

        audit_id = self.audit_id
        self.call_service(lambda s: set_agency_finding(s, audit_id, agency, finding=finding, learning=learning),
                          lambda _: (self.notify(f"Finding about {agency} saved."), self.action_reload()), write=True)

    def action_good_practice(self) -> None:
        context = self.context
        if context is None:
            return
        from qa_tui.services.practice.celebration import mark_good_practice

        ctx, audit_id = self.ctx, self.audit_id

        def saved(why: str | None) -> None:
            if why:
                self.call_service(
                    lambda s: mark_good_practice(s, source_kind="audit", source_id=audit_id, why=why,
                                                 marked_by_id=ctx.person_id, today=ctx.today()),
                    lambda _: (self.notify("Marked as good practice to celebrate."), self.action_reload()),
                    write=True)

        current = context.good_practice.why if context.good_practice else ""
        self.app.push_screen(TextPrompt("Good practice to celebrate", "Why, in a line", initial=current,
                                        placeholder="e.g. The child's own words drove the plan"), saved)

    def action_submit(self) -> None:
        audit = self.audit
        if audit is None or audit.status != "draft":
            return
        self.saves.flush()
        from qa_tui.services.audits.record import submit_for_moderation

        today = self.ctx.today()

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._write(lambda s, v: submit_for_moderation(s, audit.id, today, expected_version=v),
                            lambda _: (self.notify("Sent for moderation."), self.action_reload()))

        self.app.push_screen(ConfirmDialog("Send this audit for moderation?",
                                           f"It must reach moderation by {audit.moderation_deadline:%-d %B}. "
                                           "After this it can no longer be edited here."), confirmed)

    def palette_commands(self):
        from textual.app import SystemCommand

        yield SystemCommand("Audit: mark as good practice", "Celebrate this audit, with a line on why",
                            self.action_good_practice)
        yield SystemCommand("Audit: add action", "Raise an action with an owner and due date", self.action_add_action)
        yield SystemCommand("Audit: finding for supervision", "Put a finding on the worker's agenda",
                            self.action_finding)
        if self.audit is not None and self.audit.kind == "multi_agency":
            yield SystemCommand("Audit: finding about an agency", "What was found and the learning fed back",
                                self.action_agency_finding)
        yield SystemCommand("Audit: send for moderation", "Once every domain and the overall grade are agreed",
                            self.action_submit)
