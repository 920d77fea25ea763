"""Errors as a user sees them: a clear line, and for a lost database a dialog to retry or quit."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from qa_tui.widgets.literal import literal


def describe_error(error: BaseException | None) -> tuple[str, bool]:
    """(message, is_connection_problem) for any error raised under a service call."""
    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from qa_tui.config import ConfigError
    from qa_tui.errors import ChangedElsewhere, DatabaseUnavailable, QAError

    if error is None:
        return "Something went wrong.", False
    if isinstance(error, DatabaseUnavailable):
        return str(error), True
    if isinstance(error, (OperationalError, InterfaceError, DisconnectionError)):
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        return f"Lost the connection to the database: {detail[0] if detail else error.__class__.__name__}", True
    if isinstance(error, StaleDataError):
        return str(ChangedElsewhere()), False
    if isinstance(error, (QAError, ConfigError)):
        return str(error), False
    return f"Unexpected error ({error.__class__.__name__}): {error}. What you typed is kept; try again.", False


class DatabaseErrorScreen(ModalScreen[None]):
    """The database cannot be reached: say so, offer Retry and Quit. Nothing typed is discarded."""

    DEFAULT_CSS = """
    DatabaseErrorScreen { align: center middle; }
    DatabaseErrorScreen > Vertical { width: 80; height: auto; border: thick $error; padding: 1 2; background: $surface; }
    DatabaseErrorScreen #title { text-style: bold; color: $error; }
    """
    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Try again"),
        Binding("escape", "dismiss_error", "Close", id="error-close", tooltip="Close this message"),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Leave qa-tui"),
    ]

    HINT = "Press r to try again, Esc to go back to what you were doing, q to quit."

    def __init__(self, message: str, retry: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.message = message
        self.retries = [retry] if retry is not None else []

    def add_retry(self, retry: Callable[[], None] | None) -> None:
        """Another call failed while this dialog is open: one dialog, whose Retry runs them all."""
        if retry is not None and retry not in self.retries:
            self.retries.append(retry)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("The database cannot be reached", id="title")
            yield Static(literal(self.message), id="message")
            yield Static(literal(self.HINT))
        yield Footer()

    def action_retry(self) -> None:
        self.dismiss()
        for retry in self.retries:
            retry()

    def action_dismiss_error(self) -> None:
        self.dismiss()


class LostDatabaseScreen(DatabaseErrorScreen):
    """The database lost while the app is in use: as DatabaseErrorScreen, but only Ctrl+Q quits.
    It opens over whatever the person was doing, and the keys they were still typing arrive here:
    a 'q' in a word must not close the app (an 'r' only tries again)."""

    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Try again"),
        Binding("escape", "dismiss_error", "Close", id="error-close", tooltip="Close this message"),
        Binding("ctrl+q", "app.quit", "Quit", id="quit-when-lost", tooltip="Leave qa-tui"),
    ]
    HINT = "Press r to try again, Esc to go back to what you were doing, Ctrl+Q to quit."
