"""The first frame: drawn at once while the database opens in a worker."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class StartupScreen(Screen[None]):
    DEFAULT_CSS = """
    StartupScreen #opening { width: auto; padding: 1 4; border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        with Middle(), Center():
            yield Static("Opening the QA database…", id="opening")
        yield Footer()
