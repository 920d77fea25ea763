"""The whole of one agenda finding, opened from the supervision agenda or the worker's own view:
where it comes from, what it says, and the worker's response."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from qa_tui.widgets.literal import literal
from screens.base import QAModal

if TYPE_CHECKING:
    from qa_tui.services.practice.agenda_items import Finding


class FindingScreen(QAModal[None]):
    """Read-only: the finding's heading, each line in full, and the worker's response if any."""

    BINDINGS = [
        Binding("escape,enter,o", "close", "Close", id="finding-close", tooltip="Back to the list"),
        Binding("e", "edit", "Open the form", id="finding-edit",
                tooltip="Open the record's own form (an observation), to read or change it"),
    ]
    DEFAULT_CSS = """
    FindingScreen { align: center middle; }
    FindingScreen > Vertical { width: 90; height: auto; max-height: 26; border: thick $accent; padding: 0 1;
                               background: $surface; }
    FindingScreen .title { text-style: bold; }
    FindingScreen VerticalScroll { height: auto; max-height: 20; }
    FindingScreen .label { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, source: str, finding: Finding, edit: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.source, self.finding, self.edit = source, finding, edit

    def compose(self) -> ComposeResult:
        finding = self.finding
        with Vertical():
            yield Static(literal(self.source), classes="title")
            with VerticalScroll(id="finding-body"):
                yield Static(literal(finding.heading), id="finding-heading")
                for label, text in finding.lines:
                    yield Static(literal(label), classes="label")
                    yield Static(literal(text))
                response = finding.response
                if response is not None:
                    yield Static(literal(f"The worker's response ({response.responded_on:%-d %b %Y})"), classes="label")
                    yield Static(literal(response.line))
                    if response.reflection:
                        yield Static(literal(f"Their reflection: {response.reflection}"))
                else:
                    yield Static("No response from the worker yet.", classes="label")
            yield Static("[b]Esc[/b] close   [b]↑↓[/b] scroll" + ("   [b]e[/b] open the form" if self.edit else ""))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#finding-body", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.edit is not None if action == "edit" else True

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        if self.edit is not None:
            self.dismiss(None)
            self.edit()
