"""When the database cannot be opened at start for a reason retrying will not cure: a URL qa-tui
cannot use, a database migrated by a newer qa-tui, a folder that does not exist yet, a login that
needs a password. Each says what it is and offers what can be done: pick another database,
create a new one there, type the password (kept for this session only), or quit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from qa_tui.config import database_url_problem, url_has_password
from qa_tui.errors import NoDatabaseFolder, PasswordNeeded, SchemaTooNew, UnsupportedDatabase
from qa_tui.widgets.literal import literal, literal_markup
from screens.dialogs import DIALOG_CSS


@dataclass(frozen=True)
class OpenChoice:
    """What to open next: another database, the same one created anew, or with a password."""

    url: str = ""
    create: bool = False
    password: str | None = None


def problem_screen(error: BaseException | None) -> ModalScreen[OpenChoice | None] | None:
    """The screen for an error at start that retrying cannot cure; None for any other error."""
    if isinstance(error, PasswordNeeded):
        return PasswordDialog(error)
    if isinstance(error, NoDatabaseFolder):
        return CannotOpenScreen("No database there yet", literal_markup(
            "There is no database at [b]$path[/b]: the folder [b]$folder[/b] does not exist.\n"
            "Create a new, empty database there, or open another one?", path=error.path, folder=error.folder),
            can_create=True)
    if isinstance(error, SchemaTooNew):
        return CannotOpenScreen("This database is newer than this qa-tui", literal_markup("$m", m=error))
    if isinstance(error, UnsupportedDatabase):
        return CannotOpenScreen("qa-tui cannot use this database", literal_markup("$m", m=error))
    return None


class CannotOpenScreen(ModalScreen[OpenChoice | None]):
    """What the problem is, and the ways on: another database, a new one here, or quit."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="CannotOpenScreen") + """
    CannotOpenScreen > Vertical { border: thick $error; }
    CannotOpenScreen .title { color: $error; }
    CannotOpenScreen #open-keys { margin-top: 1; }
    """
    BINDINGS = [
        Binding("c", "create", "Create it", id="open-create", tooltip="Make a new, empty database at this path"),
        Binding("o", "other", "Another database", id="open-other",
                tooltip="Open another SQLite file or PostgreSQL database for this session"),
        Binding("q,escape", "app.quit", "Quit", id="open-quit", tooltip="Leave qa-tui"),
    ]

    def __init__(self, title: str, message: Content, *, can_create: bool = False) -> None:
        super().__init__()
        self.title_text, self.message, self.can_create = title, message, can_create

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.title_text), classes="title", id="open-title")
            yield Static(literal(self.message), id="open-message")
            yield Static(("[b]c[/b] create it   " if self.can_create else "")
                         + "[b]o[/b] open another database   [b]q[/b] quit", id="open-keys")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return False if action == "create" and not self.can_create else True

    def action_create(self) -> None:
        if self.can_create:
            self.dismiss(OpenChoice(create=True))

    def action_other(self) -> None:
        self.app.push_screen(OtherDatabaseDialog(), self._chosen)

    def _chosen(self, url: str | None) -> None:
        if url:
            self.dismiss(OpenChoice(url=url))

    def palette_commands(self) -> Iterable[SystemCommand]:
        if self.can_create:
            yield SystemCommand("Create the database", "A new, empty database at this path", self.action_create)
        yield SystemCommand("Open another database", "A SQLite file or a PostgreSQL URL", self.action_other)


class PasswordDialog(ModalScreen[OpenChoice | None]):
    """The password of a PostgreSQL login, typed for this session: never stored or shown."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="PasswordDialog")
    BINDINGS = [
        Binding("ctrl+o", "other", "Another database", id="password-other",
                tooltip="Open another SQLite file or PostgreSQL database instead"),
        Binding("escape", "app.quit", "Quit", id="password-quit", tooltip="Leave qa-tui"),
    ]

    def __init__(self, needed: PasswordNeeded) -> None:
        super().__init__()
        self.needed = needed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Database password", classes="title")
            yield Static(literal_markup("The PostgreSQL login [b]$login[/b] on [b]$where[/b] $outcome",
                                        login=self.needed.login, where=self.needed.where,
                                        outcome="did not accept that password: try again." if self.needed.refused
                                        else "needs a password."), id="password-message")
            yield Label("Password")
            yield Input(password=True, id="password-input")
            yield Static("It is used for this session only and never saved. To be asked no more, put it in "
                         "~/.pgpass (host:port:database:login:password, mode 0600).", markup=False)
            yield Static("[b]Enter[/b] connect   [b]Ctrl+O[/b] another database   [b]Esc[/b] quit")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#password-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value:
            self.dismiss(OpenChoice(password=event.value))

    def action_other(self) -> None:
        self.app.push_screen(OtherDatabaseDialog(), self._chosen)

    def _chosen(self, url: str | None) -> None:
        if url:
            self.dismiss(OpenChoice(url=url))


class OtherDatabaseDialog(ModalScreen[str | None]):
    """A SQLite file's path or a PostgreSQL URL, checked here; for this session only."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="OtherDatabaseDialog")
    BINDINGS = [Binding("escape", "cancel", "Back", id="other-back", tooltip="Back to the message")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Open another database", classes="title")
            yield Label("A SQLite file, or a PostgreSQL URL without its password")
            yield Input(id="other-input", placeholder="~/qa/qa.sqlite3 or postgresql://login@host/database")
            yield Static("", classes="error", id="other-error")
            yield Static("For this session only: to keep it, set [database] url in config.toml or use --db.",
                         markup=False)
            yield Static("[b]Enter[/b] open   [b]Esc[/b] back")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#other-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self.query_one("#other-error", Static)
        text = event.value.strip().strip("'\"")
        if not text:
            error.update("Type a file path or a database URL.")
            return
        if "://" not in text:
            self.dismiss(f"sqlite:///{Path(text).expanduser().resolve()}")
            return
        problem = database_url_problem(text)
        if problem:
            error.update(literal(problem))
        elif url_has_password(text):
            error.update("Leave the password out of the URL: you will be asked for it.")
        else:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

