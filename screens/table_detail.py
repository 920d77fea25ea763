"""The scaffold of a read-only screen that lists records and shows the highlighted one in full
below the table: a title line, what the screen adds above the table, the table, the detail."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen

R = TypeVar("R")


class TableDetailScreen(QAScreen, Generic[R]):
    """Subclasses give the columns, cells, key and detail of a row, and fill the title and rows
    with `show_rows` once their service call returns."""

    DEFAULT_CSS = """
    TableDetailScreen #td-title { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    TableDetailScreen #td-table { height: 1fr; }
    TableDetailScreen #td-detail-box { height: 8; border-top: solid $secondary; padding: 0 1; }
    """
    COLUMNS: Sequence[str] = ()
    EMPTY = "Nothing recorded yet."  # what the detail says when the table is empty

    def cells(self, row: R) -> Sequence[object]:
        raise NotImplementedError

    def row_key(self, row: R) -> object:
        return id(row)

    def detail(self, row: R) -> Text:
        raise NotImplementedError

    def above_table(self) -> Sequence[Widget]:
        return ()

    def compose(self) -> ComposeResult:
        yield Static("Loading…", id="td-title")
        yield from self.above_table()
        yield RecordTable(self.COLUMNS, self.cells, key=self.row_key, id="td-table")
        with VerticalScroll(id="td-detail-box"):
            yield Static("", id="td-detail")
        yield Footer()

    @property
    def table(self) -> RecordTable[R]:
        return self.query_one("#td-table", RecordTable)

    def load(self, fn: Callable[[Any], Any], then: Callable[[Any], None]) -> None:
        self.call_service(fn, then)

    def show_rows(self, title: Text, rows: Sequence[R], *, select: Callable[[R], bool] | None = None) -> None:
        self.query_one("#td-title", Static).update(literal(title))
        self.table.show(rows)
        chosen = next((r for r in rows if select(r)), None) if select else None
        if chosen is not None:
            self.table.select(chosen)
        self.table.focus()
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.table.current
        self.query_one("#td-detail", Static).update(
            literal(self.detail(row)) if row is not None else literal(self.EMPTY, "dim"))
