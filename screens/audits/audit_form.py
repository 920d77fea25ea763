"""The audit form for every kind beyond the live meeting (themed, multi-agency, closure,
supervision-file, cross-service): the shared audit editor, with what the kind adds beside it —
notes about the kind, findings per agency for a multi-agency audit, and good practice. Dismissed
when the user leaves, once everything is saved."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from qa_tui.widgets.literal import literal
from screens.audits.editor import AuditEditor
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.audits.kinds import AuditFormContext


def kind_notes(context: AuditFormContext) -> list[Text]:
    """What the kind adds beside the grades: its notes, the agency findings and good practice."""
    lines = [literal(note) for note in context.notes]
    for f in context.findings:
        line = Text.assemble(literal(f.agency, "bold"), literal(f": {f.finding}"))
        if f.learning:
            line.append_text(Text.assemble(" ", ("Learning:", "italic"), literal(f" {f.learning}")))
        lines.append(line)
    if context.good_practice is not None:
        lines.append(Text.assemble(("★ Good practice", "bold"), literal(f": {context.good_practice.why}")))
    return lines


class AuditFormScreen(QAScreen):
    """One audit of any kind, saved field by field as it is entered."""

    CSS_PATH = "audit_form.tcss"
    BINDINGS = [
        Binding("e", "agency_finding", "Agency finding", id="af-agency",
                tooltip="What the audit found about one agency's part, and the learning fed back"),
        Binding("asterisk", "good_practice", "Good practice", id="af-good-practice",
                tooltip="Mark this audit as good practice to celebrate, with a line on why"),
        Binding("escape", "back", "Back", id="af-back", tooltip="Leave the audit once everything is saved"),
    ]

    def __init__(self, audit_id: uuid.UUID) -> None:
        super().__init__()
        self.audit_id = audit_id
        self.context: AuditFormContext | None = None

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="af-bar")
        yield AuditEditor(id="af-editor", notes_title="About this audit")
        yield Footer()

    @property
    def editor(self) -> AuditEditor:
        return self.query_one(AuditEditor)

    def on_mount(self) -> None:
        self.load()

    # --- loading ---------------------------------------------------------------------------

    @on(AuditEditor.NeedsReload)
    def _reload(self) -> None:
        self.load()

    def load(self) -> None:
        from qa_tui.services.audits.kinds import form_context

        ctx, audit_id = self.ctx, self.audit_id
        self.editor.begin_loading()
        self.call_service(lambda s: form_context(s, audit_id, today=ctx.today(), cfg=ctx.config), self.show,
                          group="audit-form", exclusive=True)

    def show(self, context: AuditFormContext) -> None:
        self.context = context
        audit = context.audit
        auditor = audit.auditor.name if audit.auditor else "—"
        self.query_one("#af-bar", Static).update(Text.assemble(
            literal(context.kind_name, "bold"), literal(f" · {context.subject}\n"),
            literal(f"{audit.template.name} · {audit.audit_date:%-d %b %Y} · auditor {auditor} · "),
            literal(f" {audit.status.upper()} ", "reverse")))
        self.editor.show(audit)
        self.editor.set_notes(kind_notes(context))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "agency_finding":
            audit = self.context.audit if self.context else None
            return audit is not None and audit.kind == "multi_agency" and audit.status != "finalised"
        return True

    def action_back(self) -> None:
        self.editor.leave(self.dismiss)

    # --- what the kind adds ----------------------------------------------------------------------

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
        from screens.note_drafts import ask_note, note_draft

        current = next((f for f in context.findings if f.agency == agency), None)
        ask_note(self, note_draft("agency-finding", self.audit_id, f"{agency}, {context.subject}",
                                  agency=agency, current={"finding": current.finding, "learning": current.learning}
                                  if current else None), lambda _: self.load())

    def action_good_practice(self) -> None:
        context = self.context
        if context is None:
            return
        from screens.note_drafts import ask_note, note_draft

        current = context.good_practice.why if context.good_practice else ""
        ask_note(self, note_draft("good-practice", self.audit_id, f"audit of {context.subject}",
                                  source="audit", current={"why": current}), lambda _: self.load())

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        editor = self.editor
        yield SystemCommand("Audit: mark as good practice", "Celebrate this audit, with a line on why",
                            self.action_good_practice)
        yield SystemCommand("Audit: add action", "Raise an action with an owner and due date", editor.action_add_action)
        yield SystemCommand("Audit: finding for supervision", "Put a finding on the worker's agenda",
                            editor.action_finding)
        if self.context is not None and self.context.audit.kind == "multi_agency":
            yield SystemCommand("Audit: finding about an agency", "What was found and the learning fed back",
                                self.action_agency_finding)
        yield SystemCommand("Audit: escalate", "An Inadequate finding or a child at risk now, to a named owner",
                            editor.action_escalate)
        yield SystemCommand("Audit: send for moderation", "Once every domain and the overall grade are agreed",
                            editor.action_submit)
        yield SystemCommand("Audit: history", "Who changed this audit, when, old → new", editor.action_history)
