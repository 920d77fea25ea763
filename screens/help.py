"""Help: every area with its key, and the keys of the screen underneath."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from qa_tui.widgets.literal import literal

if TYPE_CHECKING:
    from qa_tui.app import Area


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-height: 26; border: thick $accent; padding: 1 2; background: $surface; }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close", id="help-close", tooltip="Close the help")]

    def __init__(self, areas: Sequence[Area]) -> None:
        super().__init__()
        self.areas = areas

    def compose(self) -> ComposeResult:
        def key(name: str, width: int, what: str) -> Text:
            return Text.assemble("  ", literal(f"{name:<{width}}", "bold"), literal(f" {what}"))

        lines = [Text.assemble(("Areas", "bold"), " (a single key from anywhere, or Ctrl+P and type the name)"),
                 Text()]
        lines += [key(a.key, 1, f" {a.title:<18} {a.help}") for a in self.areas]
        lines += [Text(), Text("Everywhere", style="bold"), Text(),
                  key("Ctrl+P", 6, " command palette: every screen and frequent action"),
                  key("F1 / ?", 6, " this help        q  quit"),
                  key("Tab / Shift+Tab", 15, " move between fields; Esc closes a dialog")]
        below = self.app.screen_stack[-1] if self.app.screen_stack else None
        if below is not None and below is not self:
            keys = [b for b in below.BINDINGS if isinstance(b, Binding) and b.show]
            if keys:
                lines += [Text(), Text("On this screen", style="bold"), Text()]
                lines += [key(b.key, 8, b.description) for b in keys]
        with VerticalScroll():
            yield Static(literal(Text("\n").join(lines)))
        yield Footer()

    def action_close(self) -> None:
        self.dismiss()
