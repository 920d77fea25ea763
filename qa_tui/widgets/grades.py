"""A keyboard list of graded domains: a cursor row, and one grade label per domain, readable
from the back of a meeting room. With grade keys on, the list takes `1`–`5` and `0`/Delete itself
and posts `GradeList.Graded`; the screen decides what a grade means. Its legend (the scale, under
the list) and its grades shorten long grade names ("Requires improvement to be good" to
"Requires improvement", then "RI") before anything is cut."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from qa_tui.text import printable
from qa_tui.widgets.literal import literal

OVERALL = "__overall__"  # the key of the overall-grade row, after the domains


def grade_names(label: str) -> tuple[str, ...]:
    """A grade's name, longest first: in full, its first two words, their initials ("RI", as
    inspectors write it). A short name is only ever itself."""
    words = label.split()
    if len(words) <= 2 or len(label) <= 12:
        return (label,) if len(words) < 2 or len(label) <= 12 else (label, "".join(w[0].upper() for w in words[:2]))
    return label, " ".join(words[:2]), "".join(w[0].upper() for w in words[:2])


def shortest_fit(versions: list[str], room: int) -> str:
    """The first (longest) version that fits `room`, else the last cut with …"""
    for version in versions:
        if len(version) <= room:
            return version
    last = versions[-1]
    return last[:max(0, room - 1)] + "…" if room > 0 else ""


def scale_legend(scale: tuple[str, ...], room: int) -> str:
    """"1 Outstanding  2 Good  3 Requires improvement…  4 Inadequate", names shortened (the
    longest first) until every grade of the scale shows in `room`."""
    names = [list(grade_names(label)) for label in scale]

    def line(spacing: str) -> str:
        return spacing.join(f"{i + 1} {versions[0]}" for i, versions in enumerate(names))

    while len(line("  ")) > room and any(len(versions) > 1 for versions in names):
        longest = max((versions for versions in names if len(versions) > 1), key=lambda v: len(v[0]))
        longest.pop(0)
    return shortest_fit([line("  "), line(" ")], room)


@dataclass(frozen=True)
class GradeRow:
    key: str
    label: str
    grade: int | None
    note: str = ""  # e.g. the auditor's grade beside a moderator's


class GradeList(Widget, can_focus=True):
    """Rows of domain → grade. Up/Down move. With `grade_keys`, a digit grades the row under the
    cursor (1 is the first, best, point of the scale; 0 or Delete clears it), the row shows the
    new grade at once, the cursor moves on (`advance`) and `Graded` is posted. `read_only` turns
    the grade keys off (shown greyed in the footer); `hold` keeps them while rows are loading."""

    DEFAULT_CSS = """
    GradeList { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    GradeList:focus { background: $boost; }
    """
    GRADE_ROOM = 8  # at least this much of the grade shows; long labels are shortened first
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False, id="grades-up", tooltip="The row above"),
        Binding("down,j", "move(1)", "Down", show=False, id="grades-down", tooltip="The row below"),
        Binding("1", "grade(0)", "Grade", id="grade-1", tooltip="Grade the highlighted row 1, the best grade"),
        Binding("2", "grade(1)", show=False, id="grade-2", tooltip="Grade the highlighted row 2"),
        Binding("3", "grade(2)", show=False, id="grade-3", tooltip="Grade the highlighted row 3"),
        Binding("4", "grade(3)", show=False, id="grade-4", tooltip="Grade the highlighted row 4"),
        Binding("5", "grade(4)", show=False, id="grade-5", tooltip="Grade the highlighted row 5"),
        Binding("0,delete", "grade(None)", show=False, id="grade-clear", tooltip="Clear the highlighted row's grade"),
    ]
    cursor: reactive[int] = reactive(0)

    class Moved(Message):
        def __init__(self, row: GradeRow) -> None:
            super().__init__()
            self.row = row

    class Graded(Message):
        """A row was graded by key: `row` already carries the new `grade` (None: cleared)."""

        def __init__(self, grade_list: GradeList, row: GradeRow, grade: int | None) -> None:
            super().__init__()
            self.grade_list = grade_list
            self.row = row
            self.grade = grade

        @property
        def control(self) -> GradeList:
            return self.grade_list

    def __init__(self, scale: tuple[str, ...] = (), *, id: str | None = None, grade_keys: bool = False,
                 advance: bool = True) -> None:
        super().__init__(id=id)
        self.scale = scale
        self.rows: list[GradeRow] = []
        self.grade_keys = grade_keys
        self.advance = advance
        self.read_only = False
        self.holding = False  # the rows are on their way: keys are kept, in order, until `release`
        self._held: list[tuple[str, int | None]] = []

    def hold(self) -> int:
        """Keep the grade and move keys pressed from now on (the rows are being loaded); forget
        any kept before, and say how many that was."""
        dropped, self._held, self.holding = len(self._held), [], True
        return dropped

    def release(self, apply: bool) -> int:
        """Stop keeping keys; with `apply`, act on those kept, in the order they were pressed,
        on the rows now shown. Returns how many grade keys were kept."""
        held, self._held, self.holding = self._held, [], False
        if apply:
            for action, value in held:
                if action == "move":
                    self.action_move(value or 0)
                else:
                    self.action_grade(value)
        return sum(1 for action, _ in held if action == "grade")

    def set_rows(self, rows: list[GradeRow], scale: tuple[str, ...]) -> None:
        self.rows, self.scale = rows, scale
        self.cursor = min(self.cursor, max(0, len(rows) - 1))
        self._show_legend()
        self.refresh(layout=True)

    def on_resize(self) -> None:
        self._show_legend()

    def _show_legend(self) -> None:
        """The scale under the list, every grade of it showing at this width."""
        if self.scale:
            self.border_subtitle = literal(scale_legend(self.scale, max(20, self.size.width - 6)))

    @property
    def current(self) -> GradeRow | None:
        return self.rows[self.cursor] if self.rows else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "grade":
            return True
        if not self.grade_keys:
            return False  # the keys are left to the screen
        grade = parameters[0] if parameters else None
        if self.holding:
            return True  # the scale is not known yet: kept, and checked once the rows are shown
        if isinstance(grade, int) and grade >= len(self.scale):
            return False  # beyond this scale
        return None if self.read_only or not self.rows else True

    def action_move(self, step: int) -> None:
        if self.holding:
            self._held.append(("move", step))
        elif self.rows:
            self.cursor = (self.cursor + step) % len(self.rows)
            self.post_message(self.Moved(self.rows[self.cursor]))

    def action_grade(self, grade: int | None) -> None:
        if self.holding:
            self._held.append(("grade", grade))
            return
        row = self.current
        if row is None or (isinstance(grade, int) and grade >= len(self.scale)):
            return
        graded = replace(row, grade=grade)
        self.rows[self.cursor] = graded
        self.refresh()
        # Moved on before the next key is read, so a burst of digits grades row after row.
        if grade is not None and self.advance and self.cursor < len(self.rows) - 1:
            self.cursor += 1
            self.post_message(self.Moved(self.rows[self.cursor]))
        self.post_message(self.Graded(self, graded, grade))

    def grade_label(self, grade: int | None, room: int = 1000) -> str:
        """"3 Requires improvement to be good", its name shortened to fit `room`."""
        if grade is None:
            return "—"
        if not 0 <= grade < len(self.scale):
            return str(grade)
        return f"{grade + 1} {shortest_fit(list(grade_names(self.scale[grade])), room - len(str(grade + 1)) - 1)}"

    def _note(self, note: str, room: int) -> str:
        """A note beside a grade ("auditor: Requires improvement to be good"), the grade names in
        it shortened, a step at a time, to fit."""
        for level in (1, 2):
            if len(note) <= room:
                break
            for label in self.scale:
                names = grade_names(label)
                if len(names) > level:
                    note = note.replace(names[level - 1], names[level])
        return note

    def get_content_height(self, container, viewport, width) -> int:  # noqa: ANN001
        return max(1, len(self.rows))

    def render(self) -> Text:
        # One line per row, however narrow: the label is shortened before the grade is.
        available = self.content_size.width - 2
        width = min(max((len(r.label) for r in self.rows), default=10) + 2, max(10, available - self.GRADE_ROOM))
        room = max(self.GRADE_ROOM, available - width)
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, row in enumerate(self.rows):
            pointer = "▶ " if index == self.cursor and self.has_focus else "  "
            style = "reverse bold" if index == self.cursor and self.has_focus else ""
            grade_style = "bold" if row.grade is not None else "dim"
            # The grade first, whole ("4 Inadequate" is the longest short name); a note beside it
            # ("auditor: Good") has what is left, its grade names shortened, then cut.
            grade = printable(self.grade_label(row.grade, min(room, 12) if row.note else room))
            note_room = room - len(grade) - 3
            note = self._note(printable(row.note), note_room) if row.note else ""
            if len(note) > note_room:
                note = note[:note_room - 1] + "…" if note_room > 1 else ""
            label = printable(row.label)
            label = label if len(label) + 2 <= width else label[:width - 3] + "… "
            text.append(pointer + label.ljust(width), style=style)
            text.append(grade if len(grade) <= room else grade[:room - 1] + "…",
                        style=f"{style} {grade_style}".strip())
            if note:
                text.append(f"   {note}", style="italic")
            if index < len(self.rows) - 1:
                text.append("\n")
        return text

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
