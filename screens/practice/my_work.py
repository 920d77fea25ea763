"""My work: a practitioner's own audits, observations, dip samples and feedback (only what was
shared with them), their next supervision's agenda, and their response to an audit or observation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from qa_tui.text import plural, printable
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from qa_tui.services.unsaved_forms import FormDraft
from screens.base import QAModal, QAScreen
from screens.dialogs import DIALOG_CSS
from screens.drafts import DraftedForm

if TYPE_CHECKING:
    from qa_tui.services.practice.my_work import MyRecord, MyWork
    from qa_tui.services.practice.responses import ResponseView

STANCES = (("agree", "I agree"), ("disagree", "I disagree"))


def your_response(response: ResponseView) -> str:
    comment = " ".join(response.comment.split())
    return f"You {response.stance}" + (f": {comment}" if comment else "")


def response_cell(record: MyRecord) -> object:
    response = record.finding.response
    if response is not None:
        return literal(f"you {response.stance}d", "green" if response.stance == "agree" else "yellow")
    return Text("respond with c", style="dim") if record.may_respond else ""


def record_cells(record: MyRecord) -> tuple[object, ...]:
    return (record.label, f"{record.on:%-d %b %Y}", response_cell(record), record.finding.heading)


class MyWorkScreen(QAScreen):
    """Your own records, newest first; Enter opens one (an observation's first open is recorded as
    the day you saw it); c adds or changes your response to an audit or observation."""

    CSS_PATH = "my_work.tcss"
    BINDINGS = [
        Binding("enter", "open_record", "Open", id="my-open", priority=True,
                tooltip="Read the highlighted record in full"),
        Binding("c", "respond", "Respond", id="my-respond",
                tooltip="Agree or disagree with the highlighted audit or observation, and add your reflection"),
        Binding("r", "refresh", "Refresh", id="my-refresh", tooltip="Read your work again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.work: MyWork | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="my-bar")
        table: RecordTable[MyRecord] = RecordTable(("Record", "Date", "Your response", "About"), record_cells,
                                                   lambda r: f"{r.kind}:{r.id}", id="my-table")
        table.border_title = "Shared with you"
        yield table
        yield Static("", id="my-detail")
        agenda = Static("", id="my-agenda")
        agenda.border_title = "For your next supervision"
        yield agenda
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self.work is not None:
            self.action_refresh()

    @property
    def table(self) -> RecordTable[MyRecord]:
        return self.query_one("#my-table", RecordTable)

    def action_refresh(self) -> None:
        from qa_tui.services.practice.my_work import my_work

        person_id, today = self.ctx.person_id, self.ctx.today()
        self.call_service(lambda s: my_work(s, person_id, today), self.show, group="my-work", exclusive=True,
                          on_error=self._not_linked)

    def _not_linked(self, error: BaseException) -> bool:
        from qa_tui.errors import NotAllowed

        if isinstance(error, NotAllowed):
            self.query_one("#my-bar", Static).update(literal(str(error)))
            return True
        return False

    def show(self, work: MyWork) -> None:
        self.work = work
        table = self.table
        table.show(work.records)
        table.border_subtitle = literal(f"{len(work.records)} record{'s' if len(work.records) != 1 else ''}")
        self.query_one("#my-bar", Static).update(literal_markup(
            "[b]My work[/b] · $name ($role) · to discuss at your next supervision: $count · open actions: $actions",
            name=work.name, role=work.role, count=len(work.agenda), actions=len(work.actions)))
        lines = []
        for item in work.agenda:
            finding = work.agenda_findings.get(item.id)
            lines.append(f"• {item.source_label}, from {item.event_on:%-d %b %Y}: {item.summary}")
            if finding is not None and finding.response is not None:
                lines.append(f"    {your_response(finding.response)}")
        for action in work.actions:
            late = f", {plural(action.days_overdue, 'day')} late" if action.overdue else ""
            lines.append(f"• Action: {action.title} (due {action.due_on:%-d %b %Y}{late})")
        self.query_one("#my-agenda", Static).update(
            literal("\n".join(lines)) if lines else "[dim]Nothing waiting for your next supervision.[/dim]")
        self.show_detail()
        table.focus()
        from screens.overview.unsaved import offer_unsaved

        offer_unsaved(self)  # My work is a practitioner's landing screen

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        record = self.table.current
        if record is None:
            text = ""
        else:
            lines = [record.finding.heading, *(f"{label}: {value}" for label, value in record.finding.lines)]
            response = record.finding.response
            if response is not None:
                lines.append(your_response(response))
            text = "\n".join(lines)
        self.query_one("#my-detail", Static).update(literal(text))

    def action_open_record(self) -> None:
        record = self.table.current
        if record is None:
            return
        from qa_tui.services.practice.my_work import open_my_record

        person_id, today = self.ctx.person_id, self.ctx.today()

        def opened(fresh: MyRecord) -> None:
            from screens.practice.agenda_detail import FindingScreen

            self.app.push_screen(FindingScreen(fresh.label, fresh.finding))

        self.call_service(lambda s: open_my_record(s, person_id, record.kind, record.id, today), opened,
                          write=True)

    def action_respond(self) -> None:
        record = self.table.current
        if record is None:
            return
        if not record.may_respond:
            self.notify("You can respond to an audit or an observation of your work.", severity="warning")
            return

        def responded(view: ResponseView | None) -> None:
            if view is not None:
                self.notify("Your response is saved; your manager will see it on your supervision agenda.")
                self.action_refresh()

        self.app.push_screen(ResponseDialog(record), responded)

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("My work: open the record", "Read the highlighted record in full", self.action_open_record)
        yield SystemCommand("My work: respond", "Agree or disagree, with a comment and your reflection",
                            self.action_respond)


def reopen_response(screen: QAScreen, draft: FormDraft) -> None:
    """Open a response's draft again on the record it answers (as it is now)."""
    from qa_tui.services.practice.my_work import my_work

    person_id, today = screen.ctx.person_id, screen.ctx.today()

    def loaded(work: MyWork) -> None:
        record = next((r for r in work.records if f"{r.kind}:{r.id}" == draft.record_id), None)
        if record is None:
            screen.notify(f"{draft.describe()}: the record is no longer shared with you; the draft is kept.",
                          severity="warning", markup=False)
            return
        screen.app.push_screen(ResponseDialog(record, draft), lambda view: view and screen.notify(
            "Your response is saved; your manager will see it on your supervision agenda."))

    screen.call_service(lambda s: my_work(s, person_id, today), loaded)


class ResponseDialog(DraftedForm, QAModal["ResponseView | None"]):
    """Your response: agree or disagree, a comment (needed to disagree), and your reflection. What
    is typed is kept as a draft until it is saved (offered back after a restart)."""

    DRAFT_FIELDS = {"stance": "#response-stance", "comment": "#response-comment",
                    "reflection": "#response-reflection"}

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="response-cancel",
                tooltip="Close without saving (asks first when something is typed)"),
        Binding("ctrl+s", "save", "Save", id="response-save", tooltip="Save your response"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(cls="ResponseDialog") + """
    ResponseDialog Label { color: $text-muted; }
    ResponseDialog #response-reflection { height: 6; }
    """

    def __init__(self, record: MyRecord, draft: FormDraft | None = None) -> None:
        super().__init__()
        self.record = record
        self.form_draft = draft or FormDraft("response", f"{record.kind}:{record.id}",
                                             f"to {record.label.lower()} of {record.on:%-d %b %Y}")

    def compose(self) -> ComposeResult:
        earlier = self.record.finding.response
        with Vertical():
            yield Static(literal(f"Your response: {self.record.finding.heading}"), classes="title")
            yield Label("Do you agree with it?")
            yield FormSelect([(literal(label), value) for value, label in STANCES], allow_blank=False,
                             value=earlier.stance if earlier else "agree", id="response-stance")
            yield Label("Comment (needed if you disagree)")
            yield Input(printable(earlier.comment) if earlier else "", id="response-comment")
            yield Label("Your reflection (several lines; optional)")
            yield TextArea(printable(earlier.reflection) if earlier else "", id="response-reflection", soft_wrap=True,
                           show_line_numbers=False)
            yield Static("", classes="error", id="response-error")
            yield Static("[b]Ctrl+S[/b] save   [b]Tab[/b] next field   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#response-stance", Select).focus()
        self.start_draft()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_save(self) -> None:
        from qa_tui.services.practice.responses import respond

        record, ctx = self.record, self.ctx
        stance: Any = self.query_one("#response-stance", Select).value
        comment = self.query_one("#response-comment", Input).value
        reflection = self.query_one("#response-reflection", TextArea).text
        earlier = record.finding.response
        self.call_service(
            lambda s: respond(s, person_id=ctx.person_id, source_kind=record.record_kind, source_id=record.id,
                              stance=stance, comment=comment, reflection=reflection, today=ctx.today(),
                              expected_version=earlier.version if earlier else None),
            self._saved, write=True, on_error=self._refused)

    def _saved(self, view: ResponseView) -> None:
        self.draft_stored()
        self.dismiss(view)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.errors import ChangedElsewhere, NotAllowed, ValidationError

        if isinstance(error, ValidationError):
            self.query_one("#response-error", Static).update(literal(f"{error.field.capitalize()}: {error.problem}."))
            self.query_one("#response-comment", Input).focus()
            return True
        if isinstance(error, (NotAllowed, ChangedElsewhere)):
            self.query_one("#response-error", Static).update(literal(str(error)))
            return True
        return False

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(None))
