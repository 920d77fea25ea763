"""Feedback from children and families: the latest received, a form to record one, and the QR
code for the council's feedback form, shown on screen or saved as an image to hand to a family."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Input, Label, Select, Static, TextArea

from qa_tui.dates import parse_day
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.services.unsaved_forms import FormDraft
from screens.base import QAScreen
from screens.dialogs import TextPrompt
from screens.drafts import DraftedForm
from screens.lists import TOGGLE_TEAMS, ListScreen

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.feedback import FeedbackView
    from qa_tui.services.practice.pickers import FeedbackLine, FeedbackList

CHANNEL_LABELS = {"form": "Form", "qr": "QR code", "phone": "Phone", "live_audit": "After a live audit",
                  "in_person": "In person", "email": "Email"}
RATING_LABELS = {1: "1 poor", 2: "2", 3: "3", 4: "4", 5: "5 excellent"}
FIELD_LABELS = {"received_on": "Received on", "case reference": "Case reference", "case": "Case",
                "worker": "Worker", "giver": "Who gave it", "channel": "Channel", "rating": "Rating",
                "said": "What they said", "themes": "Themes"}
QR_FILE_NAME = "feedback-qr.png"


def giver_label(giver: str) -> str:
    return giver.replace("_", " ").capitalize()


def save_qr_code(screen: Any, url: str) -> None:
    """Ask where to save the QR code (the exports folder by default), then write it (0600)."""
    from qa_tui.files import exports_dir

    def save(path: str | None) -> None:
        if not path:
            return
        from qa_tui.errors import QAError
        from qa_tui.services.practice.feedback import save_feedback_qr_png

        target = Path(path).expanduser()
        if target.parent == exports_dir():
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            written = save_feedback_qr_png(url, target)
        except QAError as exc:
            screen.app.report_error(exc)
            return
        screen.notify(f"Saved the QR code to {written}", markup=False)

    screen.app.push_screen(TextPrompt("Save the feedback QR code", "Save to (a PNG image, readable only by you)",
                                      initial=str(exports_dir() / QR_FILE_NAME)), save)


class FeedbackScreen(ListScreen["FeedbackLine", "FeedbackList"]):
    """The latest feedback for the user's team (or every team), newest first."""

    CSS_PATH = "feedback.tcss"
    BINDINGS = [
        Binding("n", "new_feedback", "New feedback", id="new-feedback",
                tooltip="Record feedback from a child, young person or family"),
        Binding("c", "show_qr", "QR code", id="show-qr", tooltip="The feedback form's QR code, to hand to a family"),
        Binding("x", "save_qr", "Save QR as PNG", id="save-qr", tooltip="Save the feedback form's QR code as an image"),
        TOGGLE_TEAMS,
        Binding("r", "refresh", "Refresh", id="refresh-feedback", tooltip="Read the feedback again"),
    ]
    PREFIX, GROUP = "fb", "feedback"
    DETAIL, DETAIL_TITLE = "said", "What they said"
    COLUMNS = ("Received", "Case", "Worker", "From", "Channel", "Rating")

    def load(self) -> Callable[[Session], FeedbackList]:
        from qa_tui.services.practice.pickers import feedback_list

        today, team_id = self.ctx.today(), self.scope_team_id
        return lambda s: feedback_list(s, today, team_id)

    def records(self, loaded: FeedbackList) -> tuple[FeedbackLine, ...]:
        return loaded.lines

    def key(self, record: FeedbackLine) -> uuid.UUID:
        return record.id

    def cells(self, f: FeedbackLine) -> tuple[object, ...]:
        rating = literal(RATING_LABELS[f.rating], "bold" if f.rating >= 4 else "red" if f.rating <= 2 else "") \
            if f.rating else Text("—", style="dim")
        return (f"{f.received_on:%-d %b %Y}", f.case_reference or "", f.worker_name or "", giver_label(f.giver),
                CHANNEL_LABELS.get(f.channel, f.channel), rating)

    def title_line(self, loaded: FeedbackList) -> Content:
        from qa_tui.dates import financial_year_label

        summary = loaded.summary
        average = f" · average {summary.average_rating:.1f}/5 from {summary.rated}" if summary.average_rating else ""
        themes = ", ".join(t.theme for t in summary.themes[:3])
        return literal_markup(
            "[b]Family feedback[/b] · $scope · $year: $received received$average$themes", scope=self.scope_label,
            year=financial_year_label(self.ctx.today()), received=str(summary.received), average=average,
            themes=f" · themes: {themes}" if themes else "")

    def detail(self, line: FeedbackLine | None) -> Content:
        if line is None:
            return Content("No feedback recorded yet. Press n to record some.")
        said = literal_markup("$said", said=line.said or "(a rating only)")
        if not line.themes:
            return said
        return said + literal_markup("\n[dim]Themes: $themes[/dim]", themes=", ".join(line.themes))

    def action_new_feedback(self) -> None:
        self.app.push_screen(FeedbackFormScreen())

    def action_show_qr(self) -> None:
        from qa_tui.errors import QAError
        from qa_tui.services.practice.feedback import feedback_qr_text

        url = self.ctx.config.feedback_form_url
        try:
            drawing = feedback_qr_text(url)
        except QAError as exc:
            self.qa_app.report_error(exc)
            return
        self.app.push_screen(QRCodeDialog(url, drawing))

    def action_save_qr(self) -> None:
        save_qr_code(self, self.ctx.config.feedback_form_url)

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Feedback: record feedback", "Record feedback from a child or family",
                            self.action_new_feedback)
        yield SystemCommand("Feedback: show the QR code", "The feedback form's QR code, to hand to a family",
                            self.action_show_qr)
        yield SystemCommand("Feedback: save the QR code as PNG", "Save the QR code as an image", self.action_save_qr)


def reopen_feedback(screen: QAScreen, draft: FormDraft) -> None:
    """Open feedback's draft again in the form."""
    screen.app.push_screen(FeedbackFormScreen(draft))


class FeedbackFormScreen(DraftedForm, QAScreen):
    """Record one piece of feedback; Ctrl+S saves it. A refused field is named below the form
    and nothing typed is lost: it is kept as a draft until recorded (offered back after a restart)."""

    DRAFT_FIELDS = {"received_on": "#fb-received_on", "case": "#fb-case", "worker": "#fb-worker",
                    "giver": "#fb-giver", "channel": "#fb-channel", "rating": "#fb-rating", "themes": "#fb-themes",
                    "said": "#fb-said-text"}

    CSS_PATH = "feedback.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="feedback-save", tooltip="Record this feedback"),
        Binding("escape", "cancel", "Cancel", id="feedback-cancel",
                tooltip="Go back without recording (asks first when something is typed)"),
    ]

    def __init__(self, draft: FormDraft | None = None) -> None:
        super().__init__()
        self.saving = False
        self.form_draft = draft or FormDraft("feedback", "new", f"received {self.ctx.today():%-d %b %Y}")

    def compose(self) -> ComposeResult:
        from qa_tui.services.practice.feedback import GIVER_LABELS

        yield Header()
        yield Static("[b]Record feedback from a child, young person or family[/b]", id="fb-form-title")
        with Horizontal(id="fb-form-body"):
            with Grid(id="fb-form-fields"):
                yield Label("Received on")
                yield Input(f"{self.ctx.today():%d/%m/%Y}", placeholder="DD/MM/YYYY", id="fb-received_on",
                            compact=True)
                yield Label("Case")
                yield Input(placeholder="case reference (optional)", id="fb-case", compact=True)
                yield Label("Worker")
                yield FormSelect([], prompt="the case's worker, or none", id="fb-worker", compact=True)
                yield Label("Who gave it")
                yield FormSelect([(literal(giver_label(g)), g) for g in GIVER_LABELS], prompt="choose…", id="fb-giver",
                                 compact=True)
                yield Label("Channel")
                yield FormSelect([(literal(label), c) for c, label in CHANNEL_LABELS.items()], prompt="choose…",
                                 id="fb-channel", compact=True)
                yield Label("Rating")
                yield FormSelect([(literal(label), r) for r, label in RATING_LABELS.items()], prompt="no rating",
                                 id="fb-rating", compact=True)
                yield Label("Themes")
                yield Input(placeholder="comma separated", id="fb-themes", compact=True)
            said = TextArea(id="fb-said-text", soft_wrap=True, show_line_numbers=False)
            said.border_title = "What they said (their words)"
            yield said
        yield Static("", id="fb-form-error")
        yield Static("[b]Ctrl+S[/b] save   [b]Esc[/b] cancel   [b]Tab[/b] next field", id="fb-form-status")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.practice.observations import PRACTITIONER_ROLES
        from qa_tui.services.people.directory import people_for_picking

        today = self.ctx.today()
        self.call_service(lambda s: people_for_picking(s, today, PRACTITIONER_ROLES), self._people)
        self.query_one("#fb-received_on", Input).focus()
        self.start_draft()

    def _people(self, people: list[PersonRef]) -> None:
        self.query_one("#fb-worker", Select).set_options([(literal(f"{p.name} ({p.role})"), p.id) for p in people])
        self.fill_draft()  # a restored draft's worker, now the options are in

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_save(self) -> None:
        if self.saving:
            return
        from qa_tui.services.practice.feedback import record_feedback
        from qa_tui.services.practice.pickers import case_id_for_reference

        try:
            received_on = parse_day(self.query_one("#fb-received_on", Input).value)
        except ValueError as exc:
            self._refuse("received_on", str(exc))
            return
        giver = self.query_one("#fb-giver", Select).selection
        channel = self.query_one("#fb-channel", Select).selection
        if giver is None:
            self._refuse("giver", "choose who gave the feedback")
            return
        if channel is None:
            self._refuse("channel", "choose how the feedback came in")
            return
        reference = self.query_one("#fb-case", Input).value
        worker: uuid.UUID | None = self.query_one("#fb-worker", Select).selection
        rating: int | None = self.query_one("#fb-rating", Select).selection
        said = self.query_one("#fb-said-text", TextArea).text
        themes = self.query_one("#fb-themes", Input).value.split(",")
        today, draft_id = self.ctx.today(), uuid.UUID(self.form_draft.draft_id)
        self.saving = True
        self.call_service(
            lambda s: record_feedback(s, received_on=received_on, case_id=case_id_for_reference(s, reference),
                                      worker_id=worker, giver=giver, channel=channel, rating=rating, said=said,
                                      themes=themes, today=today, record_id=draft_id),
            self._saved, write=True, on_error=self._failed)

    def _saved(self, view: FeedbackView) -> None:
        self.saving = False
        self.draft_stored()
        about = f" about {view.case_reference}" if view.case_reference else ""
        follow = "; it is on the worker's next supervision agenda" if view.worker_id else ""
        self.notify(f"Feedback{about} recorded{follow}.", markup=False)
        self.app.pop_screen()

    def _failed(self, error: BaseException) -> bool:
        from qa_tui.errors import ValidationError

        self.saving = False
        if isinstance(error, ValidationError):
            self._refuse(error.field, error.problem)
            return True
        return False

    def _refuse(self, field: str, problem: str) -> None:
        self.query_one("#fb-form-error", Static).update(literal(f"{FIELD_LABELS.get(field, field)}: {problem}"))
        widget_id = {"received_on": "#fb-received_on", "case reference": "#fb-case", "case": "#fb-case",
                     "giver": "#fb-giver", "channel": "#fb-channel", "rating": "#fb-rating",
                     "said": "#fb-said-text", "themes": "#fb-themes", "worker": "#fb-worker"}.get(field)
        if widget_id:
            self.query_one(widget_id).focus()

    def action_cancel(self) -> None:
        self.leave_draft(self.app.pop_screen)


class QRCodeDialog(ModalScreen[None]):
    """The feedback form's QR code, large enough to scan from the screen."""

    BINDINGS = [
        Binding("x", "save", "Save as PNG", id="qr-save", tooltip="Save the QR code as an image"),
        Binding("escape", "close", "Close", id="qr-close", tooltip="Close the QR code"),
    ]
    DEFAULT_CSS = """
    QRCodeDialog { align: center middle; }
    QRCodeDialog > Vertical { width: auto; height: auto; max-height: 100%; border: thick $accent; background: $surface; padding: 0 1; }
    QRCodeDialog VerticalScroll { width: auto; height: auto; max-height: 24; }
    QRCodeDialog #qr-code { width: auto; color: #ffffff; background: #000000; }
    QRCodeDialog .qr-caption { width: auto; max-width: 60; }
    """

    def __init__(self, url: str, drawing: str) -> None:
        super().__init__()
        self.url, self.drawing = url, drawing

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(literal(self.drawing.rstrip("\n")), id="qr-code")
            yield Static(literal(self.url), classes="qr-caption")
            yield Static("[b]x[/b] save as PNG   [b]Esc[/b] close", classes="qr-caption")
        yield Footer()

    def action_save(self) -> None:
        save_qr_code(self, self.url)

    def action_close(self) -> None:
        self.dismiss()
