"""A DataTable of records: each row keyed by its record, the row under the cursor looked up in one
place, the cursor kept on the same record across a reload, and every string shown as typed (and
cut short with … past CELL_WIDTH, so one long name cannot push the other columns off the screen)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual.widgets import DataTable

from qa_tui.widgets.literal import literal

R = TypeVar("R")
Cell = str | Text
CELL_WIDTH = 40  # cells wider than this end in …; the detail line shows the whole text


def table_cell(value: object) -> Text:
    """One cell: literal, at most CELL_WIDTH wide."""
    cell = literal(value).copy()
    cell.truncate(CELL_WIDTH, overflow="ellipsis")
    return cell


class RecordTable(DataTable[Text], Generic[R]):
    """Rows of records of one type. `show(records)` fills the table (keeping the cursor on the
    same record when it is still there); `current` is the record under the cursor."""

    def __init__(self, columns: Sequence[str], cells: Callable[[R], Sequence[object]],
                 key: Callable[[R], object], *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = tuple(columns)
        self._cells = cells
        self._key = key
        self.records: list[R] = []
        self._by_key: dict[str, R] = {}

    def on_mount(self) -> None:
        if not self.columns:
            self.add_columns(*self._columns)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Enter is the screen's when the screen binds it ("Open", "Moderate", …): the table's
        own select is skipped, so that key runs and shows in the footer under its name."""
        if action == "select_cursor" and any("enter" in node._bindings.key_to_bindings
                                             for node in self.ancestors if node is not self.app):
            return False
        return True

    def key_of(self, record: R) -> str:
        return str(self._key(record))

    def show(self, records: Iterable[R], *, keep_cursor: bool = True) -> None:
        before = self.current if keep_cursor else None
        self.clear()
        if not self.columns:
            self.add_columns(*self._columns)
        self.records = list(records)
        self._by_key = {}
        for record in self.records:
            key = self.key_of(record)
            self._by_key[key] = record
            self.add_row(*(table_cell(c) for c in self._cells(record)), key=key)
        if before is not None:
            self.select(before)

    def select(self, record: R) -> bool:
        """Move the cursor to `record` (by key); False when it is not in the table."""
        key = self.key_of(record)
        if key not in self._by_key:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    @property
    def current(self) -> R | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self._by_key.get(key or "")

    def replace(self, record: R) -> None:
        """Show a changed record in place (same key)."""
        key = self.key_of(record)
        if key not in self._by_key:
            return
        self._by_key[key] = record
        self.records = [record if self.key_of(r) == key else r for r in self.records]
        for column, cell in zip(self.columns, self._cells(record), strict=False):
            self.update_cell(key, column, table_cell(cell))
