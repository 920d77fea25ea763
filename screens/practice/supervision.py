"""Supervision: who is overdue or due this week by their role's cadence, each worker's agenda of
follow-ups (with each finding's substance and the worker's response) and actions, holding a
supervision, ticking what was discussed and updating actions, and Markdown exports."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeGuard

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from qa_tui.dates import parse_day
from qa_tui.text import plural
from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from qa_tui.services.unsaved_forms import FormDraft
from screens.base import QAModal, QAScreen
from screens.dialogs import DIALOG_CSS, ChoiceDialog, TextPrompt
from screens.drafts import DraftedForm
from screens.lists import TOGGLE_TEAMS, ListScreen

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.orm import Session

    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.followups import FollowUpView
    from qa_tui.services.practice.supervision import (
        Agenda,
        AgendaAction,
        SupervisionRecord,
        SupervisionStatusRow,
        SupervisionView,
    )

    AgendaItem: TypeAlias = FollowUpView | AgendaAction

NEW = "new"
FIELD_LABELS = {"held_on": "Held on", "kind": "Kind", "supervisor": "Supervisor", "notes": "Notes",
                "path": "File", "note": "Note"}


def short_date(day: date | None) -> str:
    return f"{day:%-d %b %Y}" if day else "—"


def is_action(item: AgendaItem) -> TypeGuard[AgendaAction]:
    from qa_tui.services.practice.supervision import AgendaAction

    return isinstance(item, AgendaAction)


def agenda_key(item: AgendaItem) -> str:
    return f"a:{item.id}" if is_action(item) else f"f:{item.id}"


def agenda_cells(item: AgendaItem) -> tuple[object, ...]:
    if is_action(item):
        when = literal(f"due {short_date(item.due_on)}, {item.days_overdue}d late", "bold red") if item.overdue \
            else literal(f"due {short_date(item.due_on)}")
        return ("Open action", when, item.case_reference or "", item.title)
    return (item.source_label, f"from {short_date(item.event_on)}", item.case_reference or "", item.summary)


class SupervisionScreen(ListScreen["SupervisionStatusRow", "list[SupervisionStatusRow]"]):
    """Every worker with when their next supervision is due, most overdue first."""

    CSS_PATH = "supervision.tcss"
    BINDINGS = [
        Binding("enter", "open_record", "Agenda", id="open-agenda", priority=True,
                tooltip="The highlighted worker's agenda for their next supervision"),
        Binding("h", "hold", "Record supervision", id="record-supervision",
                tooltip="Record a supervision held with the highlighted worker"),
        TOGGLE_TEAMS,
        Binding("r", "refresh", "Refresh", id="refresh-supervision", tooltip="Read who is due again"),
    ]
    PREFIX, GROUP = "sup", "supervision-status"
    COLUMNS = ("Worker", "Role", "Team", "Cadence", "Last held", "Next due", "Overdue")

    def load(self) -> Callable[[Session], list[SupervisionStatusRow]]:
        from qa_tui.services.practice.supervision import supervision_status

        ctx, today, team_id = self.ctx, self.ctx.today(), self.scope_team_id
        return lambda s: supervision_status(s, today, ctx.config, team_id=team_id)

    def records(self, loaded: list[SupervisionStatusRow]) -> list[SupervisionStatusRow]:
        return loaded

    def key(self, record: SupervisionStatusRow) -> uuid.UUID:
        return record.worker_id

    def cells(self, r: SupervisionStatusRow) -> tuple[object, ...]:
        overdue = literal(plural(r.days_overdue, "day") if r.due_on else "never supervised", "bold red") \
            if r.overdue else Text("due this week", style="bold yellow") if r.due_this_week \
            else Text("on time", style="green")
        return (r.worker_name, r.role, r.team_code or "", r.cadence, short_date(r.last_held), short_date(r.due_on),
                overdue)

    def title_line(self, loaded: list[SupervisionStatusRow]) -> Content:
        return literal_markup("[b]Supervision[/b] · $scope · $today · [b red]$overdue[/] overdue, "
                              "[b yellow]$soon[/] due this week, of $count",
                              scope=self.scope_label, today=short_date(self.ctx.today()),
                              overdue=sum(r.overdue for r in loaded), soon=sum(r.due_this_week for r in loaded),
                              count=len(loaded))

    def detail(self, record: SupervisionStatusRow | None) -> Content:
        if record is None:
            return Content("Nobody to supervise here. Press a to see every team.")
        return literal_markup("[b]$name[/b]: $reason", name=record.worker_name, reason=record.reason)

    def open_record(self, row: SupervisionStatusRow) -> None:
        self.app.push_screen(AgendaScreen(row.worker_id))

    def action_hold(self) -> None:
        row = self.current
        if row is None:
            return

        def recorded(held: SupervisionView | None) -> None:
            if held is not None:
                self.app.push_screen(AgendaScreen(row.worker_id, holding=held))

        self.app.push_screen(SupervisionDialog(row.worker_id, row.worker_name), recorded)

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Supervision: open agenda", "The highlighted worker's next supervision agenda",
                            self.action_open_record)
        yield SystemCommand("Supervision: record a supervision", "Record a supervision held with the highlighted worker",
                            self.action_hold)


class AgendaScreen(QAScreen):
    """One worker's agenda. Once a supervision is recorded (h), each follow-up is ticked as
    discussed with a note (it then leaves the agenda and stays linked to that supervision), and
    each action is updated: progress, an extension with its reason, or done with evidence."""

    CSS_PATH = "supervision.tcss"
    BINDINGS = [
        Binding("enter,space", "tick", "Tick / update", id="tick-discussed", priority=True,
                tooltip="Tick the highlighted follow-up as discussed, or update the highlighted action"),
        Binding("o", "open_finding", "Open record", id="open-finding",
                tooltip="The whole of the highlighted finding, and the worker's response"),
        Binding("h", "hold", "Hold supervision", id="hold-supervision",
                tooltip="Record the supervision being held (or choose a recent one)"),
        Binding("x", "export", "Export Markdown", id="export-markdown",
                tooltip="Save the agenda, or the record of the supervision, as a Markdown file"),
        Binding("r", "refresh", "Refresh", id="refresh-agenda", tooltip="Read the agenda again"),
        Binding("escape", "back", "Back", id="agenda-back", tooltip="Back to the supervision list"),
    ]

    def __init__(self, worker_id: uuid.UUID, *, holding: SupervisionView | None = None) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.holding = holding
        self.agenda: Agenda | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="agenda-bar")
        table: RecordTable[AgendaItem] = RecordTable(("Item", "When", "Case", "What"), agenda_cells, agenda_key,
                                                     id="agenda-table")
        table.border_title = "To discuss"
        yield table
        yield Static("", id="agenda-detail")
        discussed = Static("", id="agenda-discussed")
        discussed.border_title = "Discussed"
        yield discussed
        yield Static("", id="agenda-status")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    @property
    def table(self) -> RecordTable[AgendaItem]:
        return self.query_one("#agenda-table", RecordTable)

    def action_refresh(self) -> None:
        from qa_tui.services.practice.supervision import supervision_agenda, supervision_record

        worker_id, today = self.worker_id, self.ctx.today()
        holding_id = self.holding.id if self.holding else None

        def load(s: Any) -> tuple[Agenda, SupervisionRecord | None]:
            return supervision_agenda(s, worker_id, today), supervision_record(s, holding_id) if holding_id else None

        self.call_service(load, self.show, group="agenda", exclusive=True)

    def show(self, loaded: tuple[Agenda, SupervisionRecord | None]) -> None:
        from qa_tui.services.practice.supervision import KIND_LABELS

        self.agenda, record = loaded
        agenda = self.agenda
        table = self.table
        row_before = table.cursor_row  # a ticked item leaves: the cursor stays where it was, on the next
        table.show([*agenda.follow_ups, *agenda.actions], keep_cursor=False)
        if table.row_count:
            table.move_cursor(row=min(row_before, table.row_count - 1))
        self.show_detail()
        table.border_subtitle = literal(f"{len(agenda.follow_ups)} to discuss · {plural(len(agenda.actions), 'open action')}")
        last = short_date(agenda.last_held) if agenda.last_held else "none recorded"
        self.query_one("#agenda-bar", Static).update(literal_markup(
            "[b]Agenda for $name[/b] ($role) · last supervision $last", name=agenda.worker.name,
            role=agenda.worker.role, last=last))
        discussed = self.query_one("#agenda-discussed", Static)
        if record is None:
            discussed.border_title = "Discussed"
            discussed.update("[dim]Press h to record the supervision being held; then tick each item with Enter.[/dim]")
        else:
            held = record.supervision
            discussed.border_title = literal(f"Discussed at the {KIND_LABELS.get(held.kind, held.kind).lower()} "
                                             f"of {short_date(held.held_on)}")
            lines = [f"✓ {f.source_label}: {f.summary}" + (f" — {f.discussed_note}" if f.discussed_note else "")
                     for f in record.discussed]
            lines += [f"✓ Action: {a.title} — {a.line}" for a in record.actions]
            discussed.update(literal("\n".join(lines)) if lines else
                             "[dim]Nothing ticked yet: highlight an item and press Enter.[/dim]")
        self.query_one("#agenda-status", Static).update(
            "Nothing waiting for this worker's next supervision." if not table.row_count else
            "Enter ticks the highlighted follow-up, or updates the highlighted action; o opens a finding."
            if self.holding else
            "Press h to record the supervision being held, then tick each follow-up with Enter.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """The whole of the highlighted item, which the table may cut short."""
        item, agenda = self.table.current, self.agenda
        if item is None or agenda is None:
            text = ""
        elif is_action(item):
            text = f"{item.title}\nFrom: {item.source}" if item.source else item.title
        else:
            finding = agenda.findings.get(item.id)  # its heading, the summary, then the substance
            heading, _, substance = finding.text().partition("\n") if finding else ("", "", "")
            text = "\n".join(part for part in (heading, item.summary, substance) if part)
        self.query_one("#agenda-detail", Static).update(literal(text))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_tick()

    def action_tick(self) -> None:
        item = self.table.current
        if item is None or self.agenda is None:
            return
        if self.holding is None:
            self.notify("Press h first to record the supervision being held; then tick each item.",
                        severity="warning")
            return
        supervision_id = self.holding.id
        if is_action(item):
            from screens.practice.agenda_actions import update_action_in_supervision

            update_action_in_supervision(self, item, supervision_id, self.action_refresh)
            return
        from screens.practice.agenda_actions import tick_follow_up

        tick_follow_up(self, item, self.holding, self.agenda.worker.name, self.action_refresh)

    def action_open_finding(self) -> None:
        item, agenda = self.table.current, self.agenda
        if item is None or agenda is None or is_action(item) or item.id not in agenda.findings:
            return
        from screens.practice.agenda_detail import FindingScreen

        finding = agenda.findings[item.id]
        record_id = finding.record_id
        edit = None
        if finding.record_kind == "observation" and record_id is not None:
            from screens.practice.observation_form import ObservationFormScreen

            edit = lambda: self.app.push_screen(ObservationFormScreen(observation_id=record_id))  # noqa: E731
        self.app.push_screen(FindingScreen(item.source_label, finding, edit))

    def action_hold(self) -> None:
        agenda = self.agenda
        if agenda is None:
            return
        from qa_tui.services.practice.pickers import recent_supervisions

        worker_id, today = self.worker_id, self.ctx.today()
        self.call_service(lambda s: recent_supervisions(s, worker_id, today), self._choose_supervision)

    def _choose_supervision(self, recent: list[SupervisionView]) -> None:
        from qa_tui.services.practice.supervision import KIND_LABELS

        assert self.agenda is not None
        worker = self.agenda.worker

        def recorded(held: SupervisionView | None) -> None:
            if held is not None:
                self.holding = held
                self.notify(f"Supervision of {short_date(held.held_on)} recorded; tick each item discussed.")
                self.action_refresh()

        def chosen(value: Any) -> None:
            if value == NEW:
                self.app.push_screen(SupervisionDialog(worker.id, worker.name), recorded)
            elif value is not None:
                self.holding = next(s for s in recent if s.id == value)
                self.action_refresh()

        if not recent:
            chosen(NEW)
            return
        options: list[tuple[Any, str]] = [(NEW, "Record the supervision being held now (or another day)")]
        options += [(s.id, f"Held {short_date(s.held_on)} · {KIND_LABELS.get(s.kind, s.kind)}") for s in recent]
        self.app.push_screen(ChoiceDialog(f"Which supervision with {worker.name}?", options), chosen)

    def action_export(self) -> None:
        agenda = self.agenda
        if agenda is None:
            return
        from qa_tui.files import exports_dir

        staff, today = agenda.worker.staff_id, self.ctx.today()
        options: list[tuple[str, str]] = [("agenda", "The agenda for the next supervision")]
        if self.holding is not None:
            options.append(("record", f"The record of the supervision held {short_date(self.holding.held_on)}"))

        def chosen(what: str | None) -> None:
            if what is None:
                return
            held = self.holding
            name = (f"supervision-{staff}-{held.held_on.isoformat()}.md" if what == "record" and held
                    else f"supervision-agenda-{staff}-{today.isoformat()}.md")
            self.app.push_screen(TextPrompt("Export as Markdown", "Save to (readable only by you)",
                                            initial=str(exports_dir() / name)),
                                 lambda path: self._export(what, path))

        if len(options) == 1:
            chosen("agenda")
        else:
            self.app.push_screen(ChoiceDialog("Export which?", options), chosen)

    def _export(self, what: str, path: str | None) -> None:
        if not path:
            return
        from qa_tui.services.practice.pickers import export_agenda_markdown, export_supervision_markdown

        worker_id, today, held = self.worker_id, self.ctx.today(), self.holding
        if what == "record" and held is not None:
            job = lambda s: export_supervision_markdown(s, held.id, path)  # noqa: E731
        else:
            job = lambda s: export_agenda_markdown(s, worker_id, today, path)  # noqa: E731
        self.call_service(job, lambda written: self.notify(f"Saved {written}"), write=True)

    def action_back(self) -> None:
        self.app.pop_screen()

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Agenda: hold supervision", "Record the supervision being held", self.action_hold)
        yield SystemCommand("Agenda: tick discussed / update action",
                            "Tick the highlighted follow-up with a note, or update the highlighted action",
                            self.action_tick)
        yield SystemCommand("Agenda: open the record", "The whole finding and the worker's response",
                            self.action_open_finding)
        yield SystemCommand("Agenda: export Markdown", "Save the agenda or the record as a Markdown file",
                            self.action_export)


def reopen_supervision(screen: QAScreen, draft: FormDraft) -> None:
    """Open a supervision record's draft again; once recorded, its agenda opens as usual."""
    worker_id = uuid.UUID(draft.record_id)

    def recorded(held: SupervisionView | None) -> None:
        if held is not None:
            screen.app.push_screen(AgendaScreen(held.worker_id, holding=held))

    screen.app.push_screen(SupervisionDialog(worker_id, str(draft.context.get("worker_name", "")), draft), recorded)


class SupervisionDialog(DraftedForm, QAModal["SupervisionView | None"]):
    """Record a supervision: when, which kind, who supervised (the user by default), notes. What is
    typed is kept as a draft until it is recorded (offered back after a restart)."""

    DRAFT_FIELDS = {"held_on": "#sup-held_on", "kind": "#sup-kind", "supervisor": "#sup-supervisor",
                    "notes": "#sup-notes"}

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="supervision-cancel",
                tooltip="Close without recording (asks first when something is typed)"),
        Binding("ctrl+s", "save", "Save", id="supervision-save", tooltip="Record the supervision"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(cls="SupervisionDialog") + """
    SupervisionDialog Grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    SupervisionDialog Grid > Label { color: $text-muted; }
    SupervisionDialog Grid > Input, SupervisionDialog Grid > Select { margin-bottom: 0; }
    SupervisionDialog Grid > *:focus-within, SupervisionDialog Grid > Input:focus { background: $boost; }
    SupervisionDialog #sup-notes-label { color: $text-muted; margin-top: 1; }
    SupervisionDialog #sup-notes { height: 6; border: round $secondary; }
    SupervisionDialog #sup-notes:focus { border: round $accent; }
    SupervisionDialog #sup-error { margin-top: 1; }
    """

    def __init__(self, worker_id: uuid.UUID, worker_name: str, draft: FormDraft | None = None) -> None:
        super().__init__()
        self.worker_id, self.worker_name = worker_id, worker_name
        self.form_draft = draft or FormDraft("supervision", str(worker_id),
                                             f"for {worker_name}, {self.ctx.today():%-d %b %Y}",
                                             context={"worker_name": worker_name})

    def compose(self) -> ComposeResult:
        from qa_tui.services.practice.supervision import KIND_LABELS

        with Vertical():
            yield Static(literal(f"Supervision with {self.worker_name}"), classes="title")
            with Grid():
                yield Label("Held on")
                yield Input(f"{self.ctx.today():%d/%m/%Y}", placeholder="DD/MM/YYYY", id="sup-held_on", compact=True)
                yield Label("Kind")
                yield FormSelect([(literal(label), kind) for kind, label in KIND_LABELS.items()], allow_blank=False,
                                 value="casework", id="sup-kind", compact=True)
                yield Label("Supervisor")
                yield FormSelect([], prompt="choose…", id="sup-supervisor", compact=True)
            yield Label("Notes (several lines; optional)", id="sup-notes-label")
            yield TextArea(id="sup-notes", soft_wrap=True, show_line_numbers=False)
            yield Static("", classes="error", id="sup-error")
            yield Static("[b]Ctrl+S[/b] save   [b]Tab[/b] next field   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.people.directory import people_for_picking

        today = self.ctx.today()
        self.call_service(lambda s: people_for_picking(s, today), self._people)
        self.query_one("#sup-held_on", Input).focus()
        self.start_draft()

    def _people(self, people: list[PersonRef]) -> None:
        select = self.query_one("#sup-supervisor", Select)
        select.set_options([(literal(f"{p.name} ({p.role})"), p.id) for p in people if p.id != self.worker_id])
        if any(p.id == self.ctx.person_id for p in people):
            select.value = self.ctx.person_id
        self.fill_draft()  # a restored draft's supervisor, now the options are in

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_save(self) -> None:
        from qa_tui.services.practice.supervision import record_supervision

        error = self.query_one("#sup-error", Static)
        try:
            held_on = parse_day(self.query_one("#sup-held_on", Input).value)
        except ValueError as exc:
            error.update(literal(f"Held on: {exc}"))
            self.query_one("#sup-held_on", Input).focus()
            return
        supervisor = self.query_one("#sup-supervisor", Select).selection
        if supervisor is None:
            error.update("Supervisor: choose who supervised.")
            self.query_one("#sup-supervisor", Select).focus()
            return
        kind = self.query_one("#sup-kind", Select).selection or "casework"
        notes = self.query_one("#sup-notes", TextArea).text
        worker_id, today, draft_id = self.worker_id, self.ctx.today(), uuid.UUID(self.form_draft.draft_id)
        self.call_service(
            lambda s: record_supervision(s, worker_id=worker_id, supervisor_id=supervisor, held_on=held_on,
                                         kind=kind, notes=notes, today=today, record_id=draft_id),
            self._recorded, write=True, on_error=self._refused)

    def _recorded(self, held: SupervisionView) -> None:
        self.draft_stored()
        self.dismiss(held)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.errors import ValidationError

        if isinstance(error, ValidationError):
            self.query_one("#sup-error", Static).update(
                literal(f"{FIELD_LABELS.get(error.field, error.field)}: {error.problem}"))
            return True
        return False

    def action_cancel(self) -> None:
        self.leave_draft(lambda: self.dismiss(None))
