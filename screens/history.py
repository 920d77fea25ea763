"""One record's history from the audit trail: when, who (by name), what changed, old → new, and
the reason where one was given. Opened with h (or the palette) from the screens that show an
audit, an action, an observation or a person."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from qa_tui.widgets.literal import literal
from screens.table_detail import TableDetailScreen

if TYPE_CHECKING:
    from qa_tui.services.history.record_history import HistoryRow, RecordHistory

def history_cells(row: HistoryRow) -> tuple[str, ...]:
    change = f"{row.old} → {row.new}" if row.field or (row.old and row.new) else row.new or row.old
    return f"{row.at:%d/%m/%y %H:%M}", row.who, row.what, row.field, change


def history_detail(row: HistoryRow) -> Text:
    """The highlighted change in full, as typed."""
    what = row.what + (f" {row.field}" if row.field else "")
    line = Text.assemble(literal(f"{row.at:%-d %b %Y %H:%M} UTC", "bold"), literal(f" · {row.who} · {what}\n"),
                         ("Was: ", "bold"), literal(row.old or "—"), "\n", ("Now: ", "bold"), literal(row.new or "—"))
    if row.detail:
        line.append_text(Text.assemble("\n", ("Reason: ", "bold"), literal(row.detail)))
    return line


class HistoryScreen(TableDetailScreen["HistoryRow"]):
    """The trail of one record, oldest first; the highlighted change is shown in full below."""

    COLUMNS = ("When (UTC)", "Who", "What", "Field", "Old → new")
    EMPTY = "The audit trail holds no change to this record (records loaded in bulk, as the demo's are, have none)."
    BINDINGS = [Binding("escape,h", "app.pop_screen", "Back", id="history-back", tooltip="Back to the record")]

    def __init__(self, kind: str, record_id: uuid.UUID) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id

    def cells(self, row: HistoryRow) -> tuple[str, ...]:
        return history_cells(row)

    def detail(self, row: HistoryRow) -> Text:
        return history_detail(row)

    def on_mount(self) -> None:
        from qa_tui.services.history.record_history import record_history

        kind, record_id = self.kind, self.record_id
        self.load(lambda s: record_history(s, kind, record_id), self.show)

    def show(self, history: RecordHistory) -> None:
        count = len(history.rows)
        self.show_rows(Text.assemble(("History", "bold"), literal(f" · {history.title} · "),
                                     literal(f"{count} change{'' if count == 1 else 's'}")), history.rows)
