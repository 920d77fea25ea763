"""Help: every area with its key, and the keys of the screen underneath."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

if TYPE_CHECKING:
    from qa_tui.app import Area


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-height: 26; border: thick $accent; padding: 1 2; background: $surface; }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close", id="close")]

    def __init__(self, areas: Sequence[Area]) -> None:
        super().__init__()
        self.areas = areas

    def compose(self) -> ComposeResult:
        lines = ["[b]Areas[/b] (a single key from anywhere, or Ctrl+P and type the name)", ""]
        lines += [f"  [b]{a.key}[/b]  {a.title:<18} {a.help}" for a in self.areas]
        lines += ["", "[b]Everywhere[/b]", "",
                  "  [b]Ctrl+P[/b]  command palette: every screen and frequent action",
                  "  [b]F1 / ?[/b]  this help        [b]q[/b]  quit",
                  "  [b]Tab / Shift+Tab[/b]  move between fields; [b]Esc[/b] closes a dialog"]
        below = self.app.screen_stack[-1] if self.app.screen_stack else None
        if below is not None and below is not self:
            keys = [b for b in below.BINDINGS if isinstance(b, Binding) and b.show]
            if keys:
                lines += ["", "[b]On this screen[/b]", ""]
                lines += [f"  [b]{b.key:<8}[/b] {b.description}" for b in keys]
        with VerticalScroll():
            yield Static("\n".join(lines))
        yield Footer()

    def action_close(self) -> None:
        self.dismiss()
