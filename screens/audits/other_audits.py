"""Audits beyond the monthly cycle: themed and multi-agency audits with their case lists, the
closure and transfer queue, supervision-file and cross-service audits, good practice and the
quarterly celebration pack, individual support plans and audits of records other than a case
file (CP conference and LAC review records, carers' files). One tab per kind (keys 1 to 8); the
kind's pane owns its list and what the keys do there. Every audit opens in the one audit form."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import ContentSwitcher, Footer, Header, Static

from qa_tui.widgets.literal import literal
from screens.audits.kinds.pane import KindPane
from screens.audits.kinds.registry import PANES
from screens.base import QAScreen

PANE_ACTIONS = ("open", "new", "remove", "export", "toggle_mine", "quarter")  # whether they apply: the active pane says


class AuditsOtherScreen(QAScreen):
    """The tabs, the active kind's list with its title and hint; the keys go to the active pane."""

    CSS_PATH = "other_audits.tcss"
    BINDINGS = [
        Binding("1", "view(0)", f"Views 1-{len(PANES)}", id="ao-views",
                tooltip=f"1 to {len(PANES)} show each kind: " + ", ".join(pane.TAB.lower() for pane in PANES)),
        *(Binding(str(i + 1), f"view({i})", show=False, id=f"ao-view-{i + 1}", tooltip=f"Show the {pane.TITLE.lower()}")
          for i, pane in enumerate(PANES) if i),
        Binding("enter", "open", "Open", id="ao-open", tooltip="Open the highlighted row"),
        Binding("n", "new", "New", id="ao-new", tooltip="Start a new one of this kind"),
        Binding("x", "remove", "Unmark", id="ao-remove", tooltip="Take the highlighted row off the good practice list"),
        Binding("e", "export", "Export", id="ao-export",
                tooltip="Write the highlighted theme's report, or the quarter's learning and celebration pack"),
        Binding("v", "toggle_mine", "Mine/all", id="ao-mine", tooltip="Show yours or everyone's"),
        Binding("left_square_bracket", "quarter(-1)", "Prev qtr", id="ao-prev-quarter",
                tooltip="The quarter before"),
        Binding("right_square_bracket", "quarter(1)", "Next qtr", id="ao-next-quarter",
                tooltip="The quarter after"),
        Binding("r", "refresh", "Refresh", id="ao-refresh", tooltip="Load the list again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.panes: list[KindPane] = [pane() for pane in PANES]
        self.active = self.panes[0]
        self.mine = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ao-tabs")
        yield Static("", id="ao-title")
        with ContentSwitcher(initial=self.active.id, id="ao-panes"):
            yield from self.panes
        yield Static("", id="ao-hint")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in PANE_ACTIONS:
            return self.active.check_action(action, parameters)
        return True

    # --- the tabs, title and hint ----------------------------------------------------------

    def action_view(self, index: int) -> None:
        self.active = self.panes[index]
        self.query_one("#ao-panes", ContentSwitcher).current = self.active.id
        self.active.table.focus()
        self.refresh_bindings()
        self.action_refresh()

    def action_refresh(self) -> None:
        tabs = [literal(f" {i} {pane.TAB} ", "reverse") if pane is self.active else
                Text.assemble(literal(str(i), "bold"), literal(f" {pane.TAB}")) for i, pane in enumerate(self.panes, 1)]
        self.query_one("#ao-tabs", Static).update(literal(Text("  ").join(tabs)))
        self.active.reload()

    def on_kind_pane_loaded(self, event: KindPane.Loaded) -> None:
        pane = event.pane
        if pane is not self.active:
            return
        shown = len(pane.table.records)
        self.query_one("#ao-title", Static).update(Text.assemble(literal(pane.TITLE, "bold"), literal(pane.scope()),
                                                                 literal(f" · {shown} shown")))
        hint = pane.hint()
        self.query_one("#ao-hint", Static).update(literal(hint if shown else f"Nothing here yet. {hint}"))
        pane.table.focus()

    # --- the keys the active pane answers --------------------------------------------------

    def action_open(self) -> None:
        self.active.open_current()

    def action_new(self) -> None:
        self.active.new()

    def action_remove(self) -> None:
        self.active.remove_current()

    def action_export(self) -> None:
        self.active.export()

    def action_quarter(self, step: int) -> None:
        self.active.step_quarter(step)

    def action_toggle_mine(self) -> None:
        self.mine = not self.mine
        for pane in self.panes:
            pane.mine = self.mine
        self.active.reload()

    def palette_commands(self) -> Iterable[SystemCommand]:
        for index, pane in enumerate(self.panes):
            yield SystemCommand(f"Other audits: {pane.TITLE.lower()}", f"Show the {pane.TITLE.lower()} list",
                                lambda i=index: self.action_view(i))
        for pane in self.panes:
            yield from pane.palette_commands()
