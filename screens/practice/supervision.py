"""Supervision: who is due or overdue by their role's cadence, each worker's agenda of follow-ups
and actions, holding a supervision and ticking what was discussed, and Markdown exports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from qa_tui.dates import parse_day
from screens.base import QAModal, QAScreen
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.people.directory import PersonRef
    from qa_tui.services.practice.supervision import Agenda, SupervisionRecord, SupervisionStatusRow, SupervisionView

NEW = "new"
FIELD_LABELS = {"held_on": "Held on", "kind": "Kind", "supervisor": "Supervisor", "notes": "Notes",
                "path": "File", "note": "Note"}


def short_date(day: date | None) -> str:
    return f"{day:%-d %b %Y}" if day else "—"


class SupervisionScreen(QAScreen):
    """Every worker with when their next supervision is due, most overdue first."""

    CSS_PATH = "supervision.tcss"
    BINDINGS = [
        Binding("enter", "open_agenda", "Agenda", id="open-agenda", priority=True),
        Binding("h", "hold", "Record supervision", id="record-supervision"),
        Binding("a", "toggle_teams", "All teams/mine", id="toggle-teams"),
        Binding("r", "refresh", "Refresh", id="refresh-supervision"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.all_teams = False
        self.rows: list[SupervisionStatusRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="sup-title")
        yield DataTable(id="sup-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="sup-why")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sup-table", DataTable).add_columns(
            "Worker", "Role", "Team", "Cadence", "Last held", "Next due", "Overdue")
        self.all_teams = self.ctx.team_id is None

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def action_refresh(self) -> None:
        from qa_tui.services.practice.supervision import supervision_status

        ctx, today = self.ctx, self.ctx.today()
        team_id = None if self.all_teams else ctx.team_id
        self.call_service(lambda s: supervision_status(s, today, ctx.config, team_id=team_id), self.show,
                          group="supervision-status", exclusive=True)

    def show(self, rows: list[SupervisionStatusRow]) -> None:
        self.rows = rows
        table = self.query_one("#sup-table", DataTable)
        keep = self.selected_row()
        table.clear()
        for r in rows:
            overdue = Text(f"{r.days_overdue} days" if r.due_on else "never supervised", style="bold red") \
                if r.overdue else Text("on time", style="green")
            table.add_row(r.worker_name, r.role, r.team_code or "", r.cadence, short_date(r.last_held),
                          short_date(r.due_on), overdue, key=str(r.worker_id))
        if keep is not None and any(r.worker_id == keep.worker_id for r in rows):
            table.move_cursor(row=table.get_row_index(str(keep.worker_id)))
        overdue_count = sum(r.overdue for r in rows)
        scope = "all teams" if self.all_teams else "your team"
        self.query_one("#sup-title", Static).update(
            f"[b]Supervision[/b] · {scope} · {short_date(self.ctx.today())} · "
            f"[b red]{overdue_count}[/] overdue of {len(rows)}")
        if not rows:
            self.query_one("#sup-why", Static).update("Nobody to supervise here. Press a to see every team.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = self.selected_row()
        if row is not None:
            self.query_one("#sup-why", Static).update(f"[b]{row.worker_name}[/b]: {row.reason}")

    def selected_row(self) -> SupervisionStatusRow | None:
        table = self.query_one("#sup-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if str(r.worker_id) == key), None)

    def action_toggle_teams(self) -> None:
        if self.ctx.team_id is None:
            self.notify("You are not in a team in the database, so every team is shown.")
            return
        self.all_teams = not self.all_teams
        self.action_refresh()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_agenda()

    def action_open_agenda(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.app.push_screen(AgendaScreen(row.worker_id))

    def action_hold(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def recorded(held: SupervisionView | None) -> None:
            if held is not None:
                self.app.push_screen(AgendaScreen(row.worker_id, holding=held))

        self.app.push_screen(SupervisionDialog(row.worker_id, row.worker_name), recorded)

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Supervision: open agenda", "The highlighted worker's next supervision agenda",
                            self.action_open_agenda)
        yield SystemCommand("Supervision: record a supervision", "Record a supervision held with the highlighted worker",
                            self.action_hold)


class AgendaScreen(QAScreen):
    """One worker's agenda. Once a supervision is recorded (h), each follow-up is ticked as
    discussed with a note; it then leaves the agenda and stays linked to that supervision."""

    CSS_PATH = "supervision.tcss"
    BINDINGS = [
        Binding("enter,space", "tick", "Tick discussed", id="tick-discussed", priority=True),
        Binding("h", "hold", "Hold supervision", id="hold-supervision"),
        Binding("x", "export", "Export Markdown", id="export-markdown"),
        Binding("r", "refresh", "Refresh", id="refresh-agenda"),
        Binding("escape", "back", "Back", id="agenda-back"),
    ]

    def __init__(self, worker_id: uuid.UUID, *, holding: SupervisionView | None = None) -> None:
        super().__init__()
        self.worker_id = worker_id
        self.holding = holding
        self.agenda: Agenda | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="agenda-bar")
        table = DataTable(id="agenda-table", cursor_type="row", zebra_stripes=True)
        table.border_title = "To discuss"
        yield table
        yield Static("", id="agenda-detail")
        discussed = Static("", id="agenda-discussed")
        discussed.border_title = "Discussed"
        yield discussed
        yield Static("", id="agenda-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#agenda-table", DataTable).add_columns("Item", "When", "Case", "What")
        self.action_refresh()

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
        table = self.query_one("#agenda-table", DataTable)
        row_before = table.cursor_row
        table.clear()
        for f in agenda.follow_ups:
            table.add_row(f.source_label, f"raised {short_date(f.raised_on)}", f.case_reference or "", f.summary,
                          key=f"f:{f.id}")
        for a in agenda.actions:
            when = Text(f"due {short_date(a.due_on)}, {a.days_overdue}d late", style="bold red") if a.overdue \
                else Text(f"due {short_date(a.due_on)}")
            table.add_row("Open action", when, a.case_reference or "", a.title, key=f"a:{a.id}")
        if table.row_count:
            table.move_cursor(row=min(row_before, table.row_count - 1))
        self.show_detail(self.selected_key())
        table.border_subtitle = f"{len(agenda.follow_ups)} to discuss · {len(agenda.actions)} open actions"
        last = short_date(agenda.last_held) if agenda.last_held else "none recorded"
        self.query_one("#agenda-bar", Static).update(
            f"[b]Agenda for {agenda.worker.name}[/b] ({agenda.worker.role}) · last supervision {last}")
        discussed = self.query_one("#agenda-discussed", Static)
        if record is None:
            discussed.border_title = "Discussed"
            discussed.update("[dim]Press h to record the supervision being held; then tick each item with Enter.[/dim]")
        else:
            held = record.supervision
            discussed.border_title = (f"Discussed at the {KIND_LABELS.get(held.kind, held.kind).lower()} "
                                      f"of {short_date(held.held_on)}")
            lines = [f"✓ {f.source_label}: {f.summary}" + (f" — {f.discussed_note}" if f.discussed_note else "")
                     for f in record.discussed]
            discussed.update("\n".join(lines) or "[dim]Nothing ticked yet: highlight an item and press Enter.[/dim]")
        self.query_one("#agenda-status", Static).update(
            "Nothing waiting for this worker's next supervision." if not table.row_count else
            "Enter ticks the highlighted follow-up as discussed." if self.holding else
            "Press h to record the supervision being held, then tick each follow-up with Enter.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.row_key.value)

    def show_detail(self, key: str | None) -> None:
        """The whole of the highlighted item, which the table may cut short."""
        agenda = self.agenda
        follow_up = next((f for f in agenda.follow_ups if f"f:{f.id}" == key), None) if agenda else None
        action = next((a for a in agenda.actions if f"a:{a.id}" == key), None) if agenda else None
        text = follow_up.summary if follow_up else action.title if action else ""
        self.query_one("#agenda-detail", Static).update(Text(text))

    def selected_key(self) -> str | None:
        table = self.query_one("#agenda-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_tick()

    def action_tick(self) -> None:
        key, agenda = self.selected_key(), self.agenda
        if key is None or agenda is None:
            return
        if key.startswith("a:"):
            self.notify("Actions stay open until they are done; talk them through, and close them from the "
                        "actions list.", severity="warning")
            return
        if self.holding is None:
            self.notify("Press h first to record the supervision being held; then tick each item.",
                        severity="warning")
            return
        item = next(f for f in agenda.follow_ups if f"f:{f.id}" == key)
        supervision_id = self.holding.id
        from qa_tui.services.practice.followups import tick_discussed

        def with_note(note: str | None) -> None:
            if note is None:
                return
            self.call_service(
                lambda s: tick_discussed(s, item.id, supervision_id, note, expected_version=item.version),
                lambda _: (self.notify(f"Ticked: {item.summary}"), self.action_refresh()),
                write=True)

        self.app.push_screen(TextPrompt(f"Discussed: {item.source_label}", "Note (optional)", required=False,
                                        placeholder="e.g. agreed to share the chronology with the IRO"), with_note)

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
        yield SystemCommand("Agenda: tick discussed", "Tick the highlighted follow-up with a note", self.action_tick)
        yield SystemCommand("Agenda: export Markdown", "Save the agenda or the record as a Markdown file",
                            self.action_export)


class SupervisionDialog(QAModal["SupervisionView | None"]):
    """Record a supervision: when, which kind, who supervised (the user by default), notes."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]
    DEFAULT_CSS = """
    SupervisionDialog { align: center middle; }
    SupervisionDialog > Vertical { width: 84; height: auto; border: thick $accent; padding: 1 2; background: $surface; }
    SupervisionDialog .title { text-style: bold; margin-bottom: 1; }
    SupervisionDialog Grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    SupervisionDialog Grid > Label { color: $text-muted; }
    SupervisionDialog Grid > *:focus-within, SupervisionDialog Grid > Input:focus { background: $boost; }
    SupervisionDialog #sup-error { color: $error; height: auto; margin-top: 1; }
    """

    def __init__(self, worker_id: uuid.UUID, worker_name: str) -> None:
        super().__init__()
        self.worker_id, self.worker_name = worker_id, worker_name

    def compose(self) -> ComposeResult:
        from qa_tui.services.practice.supervision import KIND_LABELS

        with Vertical():
            yield Static(f"Supervision with {self.worker_name}", classes="title")
            with Grid():
                yield Label("Held on")
                yield Input(f"{self.ctx.today():%d/%m/%Y}", placeholder="DD/MM/YYYY", id="sup-held_on", compact=True)
                yield Label("Kind")
                yield Select([(label, kind) for kind, label in KIND_LABELS.items()], allow_blank=False,
                             value="casework", id="sup-kind", compact=True)
                yield Label("Supervisor")
                yield Select([], prompt="choose…", id="sup-supervisor", compact=True)
                yield Label("Notes")
                yield Input(placeholder="optional", id="sup-notes", compact=True)
            yield Static("", id="sup-error")
            yield Static("[b]Ctrl+S[/b] or [b]Enter[/b] on Notes: save   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.services.people.directory import people_for_picking

        today = self.ctx.today()
        self.call_service(lambda s: people_for_picking(s, today), self._people)
        self.query_one("#sup-held_on", Input).focus()

    def _people(self, people: list[PersonRef]) -> None:
        select = self.query_one("#sup-supervisor", Select)
        select.set_options([(f"{p.name} ({p.role})", p.id) for p in people if p.id != self.worker_id])
        if any(p.id == self.ctx.person_id for p in people):
            select.value = self.ctx.person_id

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "sup-notes":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        from qa_tui.services.practice.supervision import record_supervision

        error = self.query_one("#sup-error", Static)
        try:
            held_on = parse_day(self.query_one("#sup-held_on", Input).value)
        except ValueError as exc:
            error.update(f"Held on: {exc}")
            self.query_one("#sup-held_on", Input).focus()
            return
        supervisor = self.query_one("#sup-supervisor", Select).selection
        if supervisor is None:
            error.update("Supervisor: choose who supervised.")
            self.query_one("#sup-supervisor", Select).focus()
            return
        kind = self.query_one("#sup-kind", Select).selection or "casework"
        notes = self.query_one("#sup-notes", Input).value
        worker_id, today = self.worker_id, self.ctx.today()
        self.call_service(
            lambda s: record_supervision(s, worker_id=worker_id, supervisor_id=supervisor, held_on=held_on,
                                         kind=kind, notes=notes, today=today),
            self.dismiss, write=True, on_error=self._refused)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.errors import ValidationError

        if isinstance(error, ValidationError):
            self.query_one("#sup-error", Static).update(f"{FIELD_LABELS.get(error.field, error.field)}: {error.problem}")
            return True
        return False

    def action_cancel(self) -> None:
        self.dismiss(None)
