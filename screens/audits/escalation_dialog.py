"""The escalation form: who an Inadequate finding, or a child who may be at risk now, is escalated
to, and a note for them. The editor opens it with `!`; what was typed stays when it is refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal
from screens.dialogs import DIALOG_CSS

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
