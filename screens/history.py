"""One record's history from the audit trail: when, who (by name), what changed, old → new, and
the reason where one was given. Opened with h (or the palette) from the screens that show an
audit, an action, an observation or a person."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen

if TYPE_CHECKING:
    from qa_tui.services.history.record_history import HistoryRow, RecordHistory

HISTORY_BINDING_HELP = "History: who changed what, when, old → new"


def history_cells(row: HistoryRow) -> tuple[str, ...]:
    change = f"{row.old} → {row.new}" if row.field or (row.old and row.new) else row.new or row.old
    return f"{row.at:%d %b %y %H:%M}", row.who, row.what, row.field, change


def history_detail(row: HistoryRow) -> Text:
    """The highlighted change in full, as typed."""
    what = row.what + (f" {row.field}" if row.field else "")
    line = Text.assemble(literal(f"{row.at:%-d %b %Y %H:%M} UTC", "bold"), literal(f" · {row.who} · {what}\n"),
                         ("Was: ", "bold"), literal(row.old or "—"), "\n", ("Now: ", "bold"), literal(row.new or "—"))
    if row.detail:
        line.append_text(Text.assemble("\n", ("Reason: ", "bold"), literal(row.detail)))
    return line


class HistoryScreen(QAScreen):
    """The trail of one record, oldest first; the highlighted change is shown in full below."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    HistoryScreen #history-table { height: 1fr; }
    HistoryScreen #history-detail { height: 5; padding: 0 1; border-top: solid $secondary; }
    """
    BINDINGS = [Binding("escape,h", "app.pop_screen", "Back", id="history-back", tooltip="Back to the record")]

    def __init__(self, kind: str, record_id: uuid.UUID) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id

    def compose(self) -> ComposeResult:
        yield Static("Loading the history…", id="history-title")
        yield RecordTable(("When (UTC)", "Who", "What", "Field", "Old → new"), history_cells,
                          key=lambda r: id(r), id="history-table")
        yield Static("", id="history-detail")
        yield Footer()

    @property
    def table(self) -> RecordTable[HistoryRow]:
        return self.query_one("#history-table", RecordTable)

    def on_mount(self) -> None:
        from qa_tui.services.history.record_history import record_history

        kind, record_id = self.kind, self.record_id
        self.call_service(lambda s: record_history(s, kind, record_id), self.show)

    def show(self, history: RecordHistory) -> None:
        self.query_one("#history-title", Static).update(literal_markup(
            "[b]History[/b] · $title · $count", title=history.title,
            count=f"{len(history.rows)} change{'' if len(history.rows) == 1 else 's'}"))
        self.table.show(history.rows)
        self.table.focus()
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.table.current
        self.query_one("#history-detail", Static).update(
            literal(history_detail(row)) if row is not None else Text("Nothing recorded yet.", style="dim"))
