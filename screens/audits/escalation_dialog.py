"""The escalation form: who an Inadequate finding, or a child who may be at risk now, is escalated
to, and a note for them. The editor opens it with `!`; what was typed is a draft until it is
raised (offered back after a restart), and stays in the form when it is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from qa_tui.services.unsaved_forms import FormDraft
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal
from screens.dialogs import DIALOG_CSS
from screens.drafts import RefusedForm

REASONS = (("inadequate", "Graded Inadequate (overall or in a domain)"), ("risk_now", "A child may be at risk now"))


@dataclass(frozen=True)
class EscalationInput:
    owner_id: uuid.UUID
    reason: str
    note: str


class EscalationDialog(ModalScreen[EscalationInput | None]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="EscalationDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="escalation-cancel",
                        tooltip="Close without escalating"),
                Binding("ctrl+s", "save", "Save", id="escalation-save",
                        tooltip="Escalate to the chosen person with the note")]

    def __init__(self, owners: list[tuple[uuid.UUID, str]], context: str, reason: str = "inadequate") -> None:
        super().__init__()
        self.owners, self.context, self.reason = owners, context, reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(f"Escalate {self.context}"), classes="title")
            yield Label("Why")
            yield FormSelect([(literal(label), key) for key, label in REASONS], value=self.reason, allow_blank=False,
                             id="escalation-reason")
            yield Label("Escalation owner (responds by the deadline)")
            yield FormSelect([(literal(label), pid) for pid, label in self.owners], id="escalation-owner")
            yield Label("Note for them")
            yield Input(id="escalation-note", placeholder="What they need to know")
            yield Static("", classes="error", id="escalation-error")
            yield Static("[b]Enter[/b] on the note or [b]Ctrl+S[/b] save   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#escalation-owner", Select).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        owner: Any = self.query_one("#escalation-owner", Select).value
        if owner is Select.NULL:
            self.query_one("#escalation-error", Static).update("Escalation owner: name who responds.")
            self.query_one("#escalation-owner", Select).focus()
            return
        reason: Any = self.query_one("#escalation-reason", Select).value
        self.dismiss(EscalationInput(owner, reason, self.query_one("#escalation-note", Input).value))

    def action_cancel(self) -> None:
        self.dismiss(None)


class DraftedEscalationDialog(RefusedForm, EscalationDialog):
    """The escalation form, kept as `draft` as it is typed (offered back after a restart)."""

    DRAFT_FIELDS = {"reason": "#escalation-reason", "owner": "#escalation-owner", "note": "#escalation-note"}
    ERROR = "#escalation-error"
    CHOICES_ARE_TYPED = True  # the owner chosen is part of what would be lost

    def __init__(self, draft: FormDraft, problem: str = "") -> None:
        context = draft.context
        super().__init__([(uuid.UUID(pid), label) for pid, label in context.get("owners", [])],
                         context.get("where", ""), context.get("reason", "inadequate"))
        self.form_draft, self.problem = draft, problem


def escalation_draft(audit_id: uuid.UUID, subject: str, owners: list[tuple[uuid.UUID, str]]) -> FormDraft:
    """An escalation's draft for the audit `subject` names ("Audit of Case DEMO-0042"), with the
    managers to choose from."""
    return FormDraft("escalation", str(audit_id), subject, context={
        "where": subject[:1].lower() + subject[1:], "owners": [[str(pid), label] for pid, label in owners]})


def ask_escalation(node: Any, draft: FormDraft, then: Callable[[Any], None] | None = None) -> None:
    """Ask who the finding goes to and why, raise it once however often its draft is restored
    (the escalation takes the draft's id), then `then(escalation)`; refused, the form comes back
    with why beside it and nothing typed gone."""
    from qa_tui.services.audits.escalations import raise_escalation
    from screens.drafts import back_when_refused, forget_draft

    ctx = node.ctx

    def ask(draft: FormDraft, problem: str = "") -> None:
        def chosen(form: EscalationInput | None) -> None:
            if form is None:
                return
            typed = draft.typed({"reason": form.reason, "owner": str(form.owner_id), "note": form.note})

            def escalated(row: Any) -> None:
                forget_draft(node.app, typed)
                node.notify(f"Escalated; response due by {row.respond_by:%-d %B}.")
                if then is not None:
                    then(row)

            node.call_service(lambda s: raise_escalation(
                s, uuid.UUID(draft.record_id), owner_id=form.owner_id, reason=form.reason, note=form.note,
                today=ctx.today(), cfg=ctx.config, escalation_id=uuid.UUID(draft.draft_id)), escalated, write=True,
                on_error=back_when_refused(lambda why: ask(typed, f"Not saved: {why}")))

        node.app.push_screen(DraftedEscalationDialog(draft, problem), chosen)

    ask(draft)
