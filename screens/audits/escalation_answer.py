"""The answer to an escalation: its owner (or someone above them in the line management) records
what was done or decided. Opened from triage with Enter on an escalation row; what is typed is kept
as a draft until it is stored (after a restart the dialog reopens with it, to be finished and
saved: a half-typed answer never closes an escalation by itself), and Esc asks before throwing it
away."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Label, Static, TextArea

from qa_tui.services.unsaved_forms import FormDraft
from qa_tui.widgets.literal import literal
from screens.base import QAModal, QAScreen
from screens.dialogs import DIALOG_CSS
from screens.drafts import DraftedForm

if TYPE_CHECKING:
    from qa_tui.services.audits.escalations import EscalationView


def reopen_answer(screen: QAScreen, draft: FormDraft) -> None:
    """Open an answer's draft again in the dialog, to be finished and saved."""
    screen.app.push_screen(EscalationAnswerDialog(uuid.UUID(draft.record_id), draft.context.get("title", ""), draft))


class EscalationAnswerDialog(DraftedForm, QAModal[bool]):
    """Dismissed with True once the answer is stored, False when left without one."""

    DRAFT_FIELDS = {"response": "#answer-text"}

    DEFAULT_CSS = DIALOG_CSS.format(cls="EscalationAnswerDialog") + """
    EscalationAnswerDialog Label { color: $text-muted; }
    EscalationAnswerDialog #answer-about { height: auto; max-height: 8; margin-bottom: 1; }
    EscalationAnswerDialog #answer-text { height: 7; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save answer", id="answer-save",
                tooltip="Store the answer, with who gave it and when; the escalation leaves triage"),
        Binding("escape", "cancel", "Cancel", id="answer-cancel",
                tooltip="Close without answering (asks first when something is typed)"),
    ]

    def __init__(self, escalation_id: uuid.UUID, title: str = "", draft: FormDraft | None = None) -> None:
        super().__init__()
        self.escalation_id, self.title_text = escalation_id, title
        about = title.removeprefix("Escalation: ") or "an escalation"
        self.form_draft = draft or FormDraft("escalation-answer", str(escalation_id), f"of {about}",
                                             context={"title": title})
        self.view: EscalationView | None = None
        self.refusal = ""
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(f"Answer: {self.title_text}" if self.title_text else "Answer the escalation"),
                         classes="title")
            yield Static("Loading…", id="answer-about")
            yield Label("What you did or decided (several lines)")
            yield TextArea(id="answer-text", soft_wrap=True, show_line_numbers=False)
            yield Static("", classes="error", id="answer-error")
            yield Static("[b]Ctrl+S[/b] save the answer   [b]Esc[/b] cancel")
        yield Footer()

    @property
    def area(self) -> TextArea:
        return self.query_one("#answer-text", TextArea)

    def on_mount(self) -> None:
        from qa_tui.services.audits.escalations import answer_refusal, escalation_view

        self.area.focus()  # at once: what is typed while the escalation loads goes into the answer
        self.start_draft()
        escalation_id = self.escalation_id

        def load(s: object) -> tuple[EscalationView, str]:
            view = escalation_view(s, escalation_id)  # type: ignore[arg-type]
            return view, answer_refusal(s, view)  # type: ignore[arg-type]

        self.call_service(load, self._loaded)

    def _loaded(self, loaded: tuple[EscalationView, str]) -> None:
        view, self.refusal = loaded
        self.view = view
        self.query_one("#answer-about", Static).update(literal(
            f"{view.subject}: {view.reason}, escalated to {view.owner_name} on {view.raised_on:%-d %b %Y}; "
            f"respond by {view.respond_by:%-d %b %Y}." + (f"\nNote: {view.note}" if view.note else "")))
        if self.refusal:
            self.query_one("#answer-error", Static).update(literal(self.refusal))
            self.area.read_only = True

    def action_save(self) -> None:
        from qa_tui.services.audits.escalations import answer_escalation

        if self.refusal:
            self.notify(self.refusal, severity="error", markup=False)
            return
        text = self.area.text
        if not text.strip():
            self.query_one("#answer-error", Static).update("Say what you did or decided in response.")
            return
        if self.saving:
            return
        self.saving = True
        ctx, escalation_id = self.ctx, self.escalation_id
        self.call_service(lambda s: answer_escalation(s, escalation_id, text, ctx.person_id, ctx.today()),
                          lambda _: self._stored(text), write=True, on_error=self._refused)

    def _stored(self, text: str) -> None:
        self.draft_stored()
        self.notify("Answer recorded; the escalation leaves triage.")
        self.dismiss(True)

    def _refused(self, error: BaseException) -> bool:
        """Refused by the rules: said under the answer, which stays as typed (and in the journal)."""
        from qa_tui.errors import NotAllowed, NotFound, ValidationError

        self.saving = False
        if isinstance(error, (NotAllowed, NotFound, ValidationError)):
            self.query_one("#answer-error", Static).update(literal(str(error)))
            return True
        return False  # the app reports it (an outage offers to retry); the text stays in the journal

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(False))
