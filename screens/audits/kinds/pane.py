"""What every list on the other-audits screen shares: a pane per kind owning its table, the service
call that loads it, and the screen's keys it answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from textual.app import ComposeResult, SystemCommand
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable

from qa_tui.widgets.record_table import RecordTable
from screens.audits.audit_steps import AuditSteps

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

R = TypeVar("R")


class KindPane(AuditSteps, Vertical, Generic[R]):
    """One kind's list. A subclass gives its columns and the cells of a record, the service call
    that loads the list, and what the screen's keys do here; `ACTIONS` names the keys that apply
    (the screen's `check_action` asks the active pane)."""

    KEY: ClassVar[str]
    TITLE: ClassVar[str]
    TAB: ClassVar[str]
    COLUMNS: ClassVar[tuple[str, ...]]
    HINT: ClassVar[str]
    ACTIONS: ClassVar[frozenset[str]] = frozenset({"open", "new"})

    class Loaded(Message):
        """The pane's list was loaded: the screen redraws its title and hint."""

        def __init__(self, pane: KindPane[Any]) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self) -> None:
        super().__init__(id=f"ao-pane-{self.KEY}")
        self.mine = True  # the user's own list, where the kind offers the choice; set by the screen

    def compose(self) -> ComposeResult:
        yield RecordTable(self.COLUMNS, self.cells, self.row_key, id=f"ao-{self.KEY}")

    @property
    def table(self) -> RecordTable[R]:
        return self.query_one(RecordTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action in self.ACTIONS

    # --- the list --------------------------------------------------------------------------

    def loader(self) -> Callable[[Session], Sequence[R]]:
        """The service call that loads the list, with everything it needs bound in."""
        raise NotImplementedError

    def cells(self, row: R) -> Sequence[object]:
        raise NotImplementedError

    def row_key(self, row: R) -> object:
        raise NotImplementedError

    def scope(self) -> str:
        """What the title says after the kind's name: whose list, which quarter."""
        return ""

    def hint(self) -> str:
        """The line under the list saying what the keys do."""
        return self.HINT

    def reload(self) -> None:
        self.call_service(self.loader(), self._loaded, group="list", exclusive=True)

    def _loaded(self, rows: Sequence[R]) -> None:
        self.table.show(rows)
        self.post_message(self.Loaded(self))

    # --- the screen's keys -----------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_current()

    def open_current(self) -> None:
        row = self.table.current
        if row is not None:
            self.open(row)

    def open(self, row: R) -> None:
        raise NotImplementedError

    def new(self) -> None:
        """n, where ACTIONS has "new"."""
        raise NotImplementedError

    def remove_current(self) -> None:
        """x, where ACTIONS has "remove": take the highlighted row off the list."""
        raise NotImplementedError

    def export(self) -> None:
        """e, where ACTIONS has "export"."""
        raise NotImplementedError

    def step_quarter(self, step: int) -> None:
        """[ and ], where ACTIONS has "quarter"."""
        raise NotImplementedError

    def palette_commands(self) -> Iterable[SystemCommand]:
        return ()


class OwnListPane(KindPane[R]):
    """A list of the user's own by default; v shows everyone's."""

    ACTIONS = frozenset({"open", "new", "toggle_mine"})

    @property
    def mine_id(self) -> uuid.UUID | None:
        """Whose list to load: the user, or None for everyone's."""
        return self.ctx.person_id if self.mine else None

    def scope(self) -> str:
        return " · yours" if self.mine else " · everyone's"
