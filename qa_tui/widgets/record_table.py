"""A DataTable of records: each row keyed by its record, the row under the cursor looked up in one
place, the cursor kept on the same record across a reload, and every string shown as typed.

Columns fit the table's width: short columns (a date, days late, a status) keep their width and
long text columns give way, each cut short with … (never past CELL_WIDTH), so the columns a
decision needs are on screen at 100 columns without scrolling right."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Generic, TypeVar

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from qa_tui.widgets.literal import literal, literal_clipped

R = TypeVar("R")
Cell = str | Text
CELL_WIDTH = 40  # cells wider than this end in …; the detail line shows the whole text
SHORT = 12  # a column never wider than this (a date, a count, a status) is never cut
NARROWEST = 10  # a long column is not cut below this (or its heading's first word, if longer)


def table_cell(value: object, width: int = CELL_WIDTH) -> Text:
    """One cell: literal, at most `width` wide (ending in … when cut)."""
    return literal_clipped(value, width)


def fit_widths(natural: Sequence[int], minimum: Sequence[int], room: int,
               typical: Sequence[int] | None = None) -> list[int]:
    """Column widths within `room`: columns up to SHORT keep their natural (widest) width; the
    longer ones share what is left in proportion to their `typical` widths (the narrower first,
    so what one does not need goes to the next), none below its minimum nor above its natural."""
    widths = list(natural)
    if sum(natural) <= room:
        return widths
    weight = list(typical or natural)
    long = sorted((i for i, width in enumerate(natural) if width > SHORT), key=lambda i: weight[i])
    left = room - sum(width for i, width in enumerate(natural) if i not in long)
    wanted = sum(weight[i] for i in long)
    for i in long:
        widths[i] = max(minimum[i], min(natural[i], left * weight[i] // wanted if wanted else natural[i]))
        left, wanted = left - widths[i], wanted - weight[i]
    for i in long:  # what the wider ones did not need goes back to the narrower
        extra = max(0, min(left, natural[i] - widths[i]))
        widths[i], left = widths[i] + extra, left - extra
    return widths


def _typical(lengths: list[int]) -> int:
    """Most cells' width (the 80th percentile): one long cell does not make a column wide."""
    ordered = sorted(lengths)
    return ordered[int(0.8 * (len(ordered) - 1))]


def fill_table(table: DataTable[Text], labels: Sequence[str], rows: Sequence[tuple[str | None, Sequence[object]]],
               wide: Sequence[str] = ()) -> list[int]:
    """Fill `table` with `rows` ((row key, cells)), its columns fitted to its width (fit_widths;
    the `wide` columns, the text a decision rests on, take half as much again); every cell literal,
    cut with … where its column gave way. Returns the widths used."""
    shown = [(key, [literal(cell) for cell in cells]) for key, cells in rows]
    natural = [min(CELL_WIDTH, max([len(label), *(cells[i].cell_len for _, cells in shown if i < len(cells))]))
               for i, label in enumerate(labels)]
    widths = natural
    if table.size.width:  # laid out: fit the room there is
        usual = [_typical([cells[i].cell_len for _, cells in shown if i < len(cells)] or [0]) for i in range(len(labels))]
        # a column keeps what most of its cells need, up to SHORT (a case reference stays whole)
        minimum = [min(width, max(NARROWEST, len((label.split() or [""])[0]), min(most, SHORT)))
                   for width, label, most in zip(natural, labels, usual, strict=True)]
        typical = [max(len(label), most) * (3 if label in wide else 2) // 2
                   for label, most in zip(labels, usual, strict=True)]
        room = table.size.width - table.styles.scrollbar_size_vertical - 2 * table.cell_padding * len(labels)
        widths = fit_widths(natural, minimum, room, typical)
    table.clear(columns=True)
    for label, width in zip(labels, widths, strict=True):
        table.add_column(table_cell(label, width), width=width)
    for key, cells in shown:
        table.add_row(*(table_cell(cell, width) for cell, width in zip(cells, widths, strict=False)), key=key)
    return widths


class RecordTable(DataTable[Text], Generic[R]):
    """Rows of records of one type. `show(records)` fills the table (keeping the cursor on the
    same record when it is still there); `current` is the record under the cursor."""

    def __init__(self, columns: Sequence[str], cells: Callable[[R], Sequence[object]],
                 key: Callable[[R], object], *, id: str | None = None, classes: str | None = None,
                 wide: Sequence[str] = ()) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._columns = tuple(columns)
        self._wide = tuple(wide)  # columns that keep more of their text when the table is narrow
        self.hidden: set[str] = set()  # columns left out, e.g. Team when every row is one team's
        self._cells = cells
        self._key = key
        self.records: list[R] = []
        self._by_key: dict[str, R] = {}
        self.widths: list[int] = [len(label) for label in self._columns]
        self.fitted_to = 0  # the width the columns were last fitted to

    def on_mount(self) -> None:
        if not self.columns:
            self.add_columns(*self._columns)

    def on_resize(self, event: events.Resize) -> None:
        if self.records and event.size.width != self.fitted_to:
            self.show(self.records)  # the columns fit the new width

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
        self.records = list(records)
        self._by_key = {self.key_of(record): record for record in self.records}
        self.widths = fill_table(self, self._shown(self._columns),
                                 [(key, self._shown(self._cells(record))) for key, record in self._by_key.items()],
                                 self._wide)
        self.fitted_to = self.size.width
        if before is not None:
            self.select(before)

    def _shown(self, values: Sequence[object]) -> list[object]:
        return [value for value, label in zip(values, self._columns, strict=True) if label not in self.hidden]

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
        for column, cell, width in zip(self.columns, self._shown(self._cells(record)), self.widths, strict=False):
            self.update_cell(key, column, table_cell(cell, width))
