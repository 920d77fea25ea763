"""A keyboard list of graded domains: a cursor row, and one grade label per domain, readable
from the back of a meeting room."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class GradeRow:
    key: str
    label: str
    grade: int | None
    note: str = ""  # e.g. the auditor's grade beside a moderator's


class GradeList(Widget, can_focus=True):
    """Rows of domain → grade. Up/Down move; the screen grades the row under the cursor."""

    DEFAULT_CSS = """
    GradeList { height: auto; padding: 0 1; }
    GradeList:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    class Moved(Message):
        def __init__(self, row: GradeRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, scale: tuple[str, ...] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scale = scale
        self.rows: list[GradeRow] = []

    def set_rows(self, rows: list[GradeRow], scale: tuple[str, ...]) -> None:
        self.rows, self.scale = rows, scale
        self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self.refresh(layout=True)

    @property
    def current(self) -> GradeRow | None:
        return self.rows[self.cursor] if self.rows else None

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = (self.cursor + step) % len(self.rows)
            self.post_message(self.Moved(self.rows[self.cursor]))

    def grade_label(self, grade: int | None) -> str:
        if grade is None:
            return "—"
        return f"{grade + 1} {self.scale[grade]}" if 0 <= grade < len(self.scale) else str(grade)

    def get_content_height(self, container, viewport, width) -> int:  # noqa: ANN001
        return max(1, len(self.rows))

    def render(self) -> Text:
        width = max((len(r.label) for r in self.rows), default=10) + 2
        room = max(8, self.content_size.width - width - 2)  # one line per row, however narrow
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, row in enumerate(self.rows):
            pointer = "▶ " if index == self.cursor and self.has_focus else "  "
            style = "reverse bold" if index == self.cursor and self.has_focus else ""
            grade_style = "bold" if row.grade is not None else "dim"
            grade = self.grade_label(row.grade)
            text.append(pointer + row.label.ljust(width), style=style)
            text.append(grade if len(grade) <= room else grade[:room - 1] + "…",
                        style=f"{style} {grade_style}".strip())
            if row.note:
                text.append(f"   {row.note}", style="italic")
            if index < len(self.rows) - 1:
                text.append("\n")
        return text

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
