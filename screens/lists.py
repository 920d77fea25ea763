"""The scaffold of a list area: a title line, a table of records, a line about the highlighted
record, the user's team or every team, and a reload through one service call on every return."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from qa_tui.widgets.literal import literal
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen

if TYPE_CHECKING:
    from rich.text import Text
    from sqlalchemy.orm import Session
    from textual.content import Content

R = TypeVar("R")  # the record one row shows
L = TypeVar("L")  # what one load returns

TOGGLE_TEAMS = Binding("A", "toggle_teams", "All teams/mine", id="toggle-teams",
                       tooltip="Show every team, or only your own team")


class ListScreen(QAScreen, Generic[R, L]):
    """A list area. A subclass names its widgets (`PREFIX`, `DETAIL`), its `COLUMNS` and load
    `GROUP`, and fills the hooks: `load` (the one service call), `records`, `cells`, `key`,
    `title_line` and `detail`; `open_record` for Enter, `compose_extra` for more lines below.
    The title and detail are shown as given, never read as markup: style them with `literal`
    or `literal_markup`."""

    DEFAULT_CSS = """
    ListScreen .list-title { height: 1; padding: 0 1; background: $boost; }
    ListScreen .list-table { height: 1fr; }
    ListScreen .list-detail { padding: 0 1; }
    """
    PREFIX: ClassVar[str]  # widget ids: PREFIX-title, PREFIX-table, PREFIX-DETAIL
    DETAIL: ClassVar[str] = "why"
    DETAIL_TITLE: ClassVar[str] = ""  # a border title for the detail, when it is a box
    COLUMNS: ClassVar[tuple[str, ...]]
    GROUP: ClassVar[str]  # the worker group: a newer load replaces one still running

    def __init__(self) -> None:
        super().__init__()
        self.all_teams = False
        self.loaded: L | None = None

    # --- what a subclass fills in ------------------------------------------------------------

    def load(self) -> Callable[[Session], L] | None:
        """The service call that reads the list (None: nothing to read yet)."""
        raise NotImplementedError

    def records(self, loaded: L) -> Sequence[R]:
        raise NotImplementedError

    def cells(self, record: R) -> Sequence[object]:
        raise NotImplementedError

    def key(self, record: R) -> object:
        raise NotImplementedError

    def title_line(self, loaded: L) -> Text | Content:
        raise NotImplementedError

    def detail(self, record: R | None) -> Text | Content | str:
        """The line about the highlighted record (None: the list is empty)."""
        raise NotImplementedError

    def open_record(self, record: R) -> None:
        """Enter (or a click) on a record."""

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def reload_on_resume(self) -> None:
        self.action_refresh()

    # --- the scaffold --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id=f"{self.PREFIX}-title", classes="list-title")
        yield RecordTable(self.COLUMNS, self.cells, self.key, id=f"{self.PREFIX}-table", classes="list-table")
        detail = Static("", id=f"{self.PREFIX}-{self.DETAIL}", classes="list-detail")
        detail.border_title = literal(self.DETAIL_TITLE) if self.DETAIL_TITLE else None
        yield detail
        yield from self.compose_extra()
        yield Footer()

    @property
    def table(self) -> RecordTable[R]:
        return self.query_one(f"#{self.PREFIX}-table", RecordTable)

    @property
    def current(self) -> R | None:
        return self.table.current

    @property
    def scope_team_id(self) -> uuid.UUID | None:
        """The team the list is about: the user's, or None for every team."""
        return None if self.all_teams else self.ctx.team_id

    @property
    def scope_label(self) -> str:
        return "all teams" if self.all_teams else "your team"

    def on_mount(self) -> None:
        self.all_teams = self.ctx.team_id is None

    def on_screen_resume(self) -> None:
        self.reload_on_resume()

    def action_refresh(self) -> None:
        job = self.load()
        if job is not None:
            self.call_service(job, self.show, group=self.GROUP, exclusive=True)

    def show(self, loaded: L) -> None:
        self.loaded = loaded
        table = self.table
        table.show(self.records(loaded))
        self.query_one(f"#{self.PREFIX}-title", Static).update(literal(self.title_line(loaded)))
        self.show_detail()
        table.focus()

    def show_detail(self) -> None:
        self.query_one(f"#{self.PREFIX}-{self.DETAIL}", Static).update(literal(self.detail(self.current)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_record()

    def action_open_record(self) -> None:
        record = self.current
        if record is not None:
            self.open_record(record)

    def action_toggle_teams(self) -> None:
        if self.ctx.team_id is None:
            self.notify("You are not in a team in the database, so every team is shown.")
            return
        self.all_teams = not self.all_teams
        self.action_refresh()
