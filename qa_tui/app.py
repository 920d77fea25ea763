"""The Textual app: wiring only. Areas are registered here; each screen lives in `screens/`.

The first frame is drawn before the database is opened; opening (and migrating, when needed)
runs in a thread worker, and a failure shows one clear message with Retry and Quit.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from qa_tui.config import Config
from qa_tui.text import pasted, printable
from qa_tui.widgets.key_order import KeysInOrder

if TYPE_CHECKING:
    from qa_tui.context import AppContext
    from qa_tui.journal import Journal
    from qa_tui.services.programme.dashboard_figures import Dashboard
    from screens.open_database import OpenChoice


FIRST_FIGURES_DRAW_SECONDS = 1.0  # at most this long does opening wait for the first figures to be drawn


@dataclass(frozen=True)
class Area:
    """A main area of the app: a mode with its key, palette entry and screen class."""

    mode: str
    key: str
    title: str
    help: str
    module: str
    screen_class: str

    def make_screen(self) -> Screen[None]:
        return getattr(importlib.import_module(self.module), self.screen_class)()


AREAS: tuple[Area, ...] = (
    Area("dashboard", "d", "Dashboard", "This month's audits, moderation, overdue actions, supervisions",
         "screens.overview.dashboard", "DashboardScreen"),
    Area("live", "l", "Live audit", "Draw one case per worker and audit them together in the team meeting",
         "screens.audits.live_audit", "LiveAuditScreen"),
    Area("observations", "o", "Observations", "Who is observed, due or overdue this financial year; record an observation",
         "screens.practice.observations", "ObservationsScreen"),
    Area("supervision", "s", "Supervision", "Who is due supervision; each worker's agenda; hold a supervision and tick items",
         "screens.practice.supervision", "SupervisionScreen"),
    Area("dip", "k", "Dip sampling", "Dip sample a case of your team: rate each area, close the loop, finalise",
         "screens.practice.dip_sample", "DipSampleScreen"),
    Area("feedback", "b", "Family feedback", "Feedback from children and families; the feedback QR code",
         "screens.practice.feedback", "FeedbackScreen"),
    Area("moderation", "m", "Moderation", "Agree, regrade or return audits; finalise moderated ones",
         "screens.audits.moderation", "ModerationScreen"),
    Area("reports", "p", "Reports", "What you owe, programme compliance, the monthly report, CP reviews; export",
         "screens.overview.reports", "ReportsScreen"),
    Area("triage", "t", "Triage", "Everything late: actions, audits, supervisions, observations, dip samples",
         "screens.overview.triage", "TriageScreen"),
    Area("audits_other", "u", "Other audits", "Themed, multi-agency, closure, supervision-file and cross-service "
         "audits; good practice; support plans", "screens.audits.other_audits", "AuditsOtherScreen"),
    Area("sync", "y", "Sync", "Offline laptops: export, import, acknowledge, pull; decide sync conflicts",
         "screens.sync.bundles", "SyncScreen"),
    Area("mywork", "W", "My work", "Your own audits, observations, dip samples, feedback and agenda; respond to them",
         "screens.practice.my_work", "MyWorkScreen"),
    Area("admin", "a", "People & cases", "Add, edit and deactivate teams, people and cases; import a file; settings",
         "screens.admin.records", "AdminScreen"),
)


@dataclass(frozen=True)
class _KeyName:
    value: str


def read_escape_then_key_as_two_keys() -> None:
    """Esc typed quickly followed by a digit or a letter reaches the terminal as one sequence,
    which Textual reads as a macOS Option character (Esc then 2 typed "™" into the field) or as
    Alt+letter (the Esc was lost). qa-tui binds no Alt keys: read them as Esc, then the key."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    for key in "0123456789abcdefghijklmnopqrstuvwxyz":
        ANSI_SEQUENCES_KEYS["\x1b" + key] = (_KeyName("escape"), _KeyName(key))  # type: ignore[assignment]


class QAApp(KeysInOrder):
    TITLE = "qa-tui"
    SUB_TITLE = "Quality assurance"
    # The dashboard's rules are read with the app's: the first figures then cost no extra parse of every rule.
    CSS_PATH = ["app.tcss", "../screens/overview/dashboard.tcss"]
    ENABLE_COMMAND_PALETTE = True
    MODES = {a.mode: a.make_screen for a in AREAS}
    areas = AREAS  # for the screens that list them (they do not import the app)
    BINDINGS = [
        # Areas are listed on the dashboard and in help, not on every footer: there each screen's keys come first.
        *(Binding(a.key, f"area('{a.mode}')", a.title, show=False, id=f"area-{a.mode}", tooltip=a.help) for a in AREAS),
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="Every key of this screen, and the areas"),
        Binding("q", "quit", "Quit", show=False, id="quit", tooltip="Leave qa-tui"),
    ]

    def __init__(self, config: Config, *, today: date | None = None, ctx: AppContext | None = None) -> None:
        super().__init__()
        read_escape_then_key_as_two_keys()
        self.config = config
        self.today_override = today
        self._ctx = ctx
        self.first_figures: Dashboard | None = None  # read through the driver before the ORM loads
        self.first_figures_drawn = threading.Event()  # opening goes on once they are on screen
        self.first_dashboard: Dashboard | None = None  # read while opening, shown once
        self._create_database = False  # the user agreed to a new database where none was
        self._password: str | None = None  # typed for this session's PostgreSQL login; never stored
        self.unsaved_journal: Journal | None = None  # edits not yet stored (screens.base.journal_of)
        self.unsaved_offered = False  # what earlier sessions left unsaved was offered (screens.overview.unsaved)

    @property
    def ctx(self) -> AppContext:
        if self._ctx is None:
            raise RuntimeError("the database is not open yet")
        return self._ctx

    @property
    def ready(self) -> bool:
        return self._ctx is not None

    def get_default_screen(self) -> Screen[None]:
        from screens.startup import StartupScreen

        return StartupScreen()

    def on_mount(self) -> None:
        from screens.admin.settings import apply_saved_appearance

        apply_saved_appearance(self, self.config)
        self.apply_user_keys()
        if self._ctx is None:
            self.call_after_refresh(self.open_database)  # the first frame first
        else:
            self.sub_title = self._identity_line()
            self.call_after_refresh(self._opened)

    def open_database(self) -> None:
        self.run_worker(self._open_context, thread=True, exit_on_error=False, group="open", exclusive=True)

    def _open_context(self) -> AppContext:
        """Read the dashboard's first figures through the driver and show them, then load the ORM,
        open the database (migrating when behind) and read the whole dashboard, in this order in
        one worker so the first figures do not wait for the imports."""
        from qa_tui.dates import today_local
        from qa_tui.services.programme.dashboard_figures import lands_on_my_work, read_first_figures

        # Only at the first try: after a question (a password, create a file) the full path alone
        # connects, so a server never sees two logins for one try.
        first = None if self._password is not None or self._create_database else read_first_figures(
            self.config, self.today_override or today_local())
        if first is not None and not lands_on_my_work(first.role):
            drawn = threading.Event()
            self.call_from_thread(self._show_first_figures, first.dashboard, drawn)
            drawn.wait(timeout=FIRST_FIGURES_DRAW_SECONDS)  # the imports below would slow the drawing

        from qa_tui.context import open_context
        from qa_tui.services.programme.dashboard import build_dashboard

        ctx = open_context(self.config, today=self.today_override, create=self._create_database,
                           password=self._password)
        with ctx.db.reader() as session:
            self.first_dashboard = build_dashboard(session, today=ctx.today(), config=ctx.config,
                                                   person_id=ctx.person_id)
        return ctx

    def _show_first_figures(self, figures: Dashboard, drawn: threading.Event) -> None:
        """The dashboard with its first figures, while the rest loads (its other keys wait); not
        over a screen the user has opened meanwhile (help)."""
        from screens.startup import StartupScreen

        if not self.ready and self.current_mode == self.DEFAULT_MODE and isinstance(self.screen, StartupScreen):
            self.first_figures, self.first_figures_drawn = figures, drawn  # the dashboard sets it once drawn
            self.switch_mode("dashboard")
        else:
            drawn.set()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "open":
            return
        if event.state == WorkerState.SUCCESS:
            self._ctx = event.worker.result
            self.sub_title = self._identity_line()
            self._opened()
        elif event.state == WorkerState.ERROR:
            self._open_failed(event.worker.error)

    def _opened(self) -> None:
        """The landing area (a practitioner's own work, else the dashboard), and on a standalone
        install's first run the question whose it is."""
        mode = self.landing_mode()
        if mode == self.current_mode:  # shown with its first figures: now it has the rest
            self.refresh_bindings()
            for screen in self.screen_stack:
                getattr(screen, "database_opened", lambda: None)()
        self.switch_mode(mode)
        if self.ctx.owner_needed:
            from screens.admin.owner import OwnerScreen

            self.drop_held_keys()  # typed for a dashboard, not for the question whose install it is
            self.push_screen(OwnerScreen(), self._owner_answered)
        else:
            self.call_after_refresh(self.release_held_keys)  # what was typed while it opened

    def keys_on_hold(self, event: events.Key) -> bool:
        """While the app opens (the first figures or the opening screen alone on screen), an
        area's key waits for it, with what is typed after it; a question about opening (a
        password, another database) and help take keys at once."""
        if self.ready or len(self.screen_stack) != 1:
            return False
        bound = self.screen.active_bindings.get(event.key)
        return bound is not None and bound.binding.action.startswith("area(")

    def _owner_answered(self, named: bool | None) -> None:
        self.sub_title = self._identity_line()
        if named:
            self.switch_mode(self.landing_mode())

    def _open_failed(self, error: BaseException | None) -> None:
        """A problem retrying cannot cure gets its own screen (another database, create, a
        password, quit); anything else is reported with Retry."""
        from screens.open_database import problem_screen

        self.drop_held_keys()  # typed for a dashboard that did not come
        screen = problem_screen(error)
        if screen is None:
            self.report_error(error, retry=self.open_database)
        else:
            self.push_screen(screen, self._open_again)

    def _open_again(self, choice: OpenChoice | None) -> None:
        if choice is None:
            self.exit()
            return
        if choice.url:
            self.config = replace(self.config, database_url=choice.url)
            self._create_database, self._password = False, None
        self._create_database = self._create_database or choice.create
        if choice.password is not None:
            self._password = choice.password
        self.open_database()

    def landing_mode(self) -> str:
        """A practitioner opens the app on their own work; everyone else on the dashboard."""
        from qa_tui.services.programme.dashboard_figures import lands_on_my_work

        return "mywork" if lands_on_my_work(self.ctx.person_role) else "dashboard"

    def reread_identity(self) -> None:
        """After something that changes who the user is here (a pull binds a laptop to the
        puller): read it again from the database, off the UI thread, and show it."""
        from qa_tui.context import refresh_identity

        def reread() -> None:
            refresh_identity(self.ctx)
            self.call_from_thread(lambda: setattr(self, "sub_title", self._identity_line()))

        self.run_worker(reread, thread=True, exit_on_error=False, group="identity")

    def _identity_line(self) -> str:
        from qa_tui.db.engine import describe_url

        ctx = self.ctx
        who = ctx.person_name or ctx.config.user_name or ctx.login
        where = "local SQLite" if ctx.db.is_sqlite else describe_url(ctx.config.database_url)
        return f"{who} · {where}"

    # --- the user's own keys ------------------------------------------------------------------

    def apply_user_keys(self) -> None:
        """Apply the [keys] table of preferences.toml; entries that cannot be used are named."""
        from qa_tui.preferences import preferences_path, saved_preferences
        from screens.keymap import apply_saved_keymap

        keys = saved_preferences(self.config).preferences.keys
        if keys:
            apply_saved_keymap(self, keys, preferences_path(self.config), ((QAApp, b) for b in self.BINDINGS))

    # --- text shown by the app itself: always literal ----------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Every toast shows its text as typed: messages quote names, titles and what people
        typed, so markup is never read (a widget's own `notify` passes `markup=True` by default,
        hence it is ignored here, not just defaulted) and control characters are made visible."""
        super().notify(printable(message), title=printable(title), severity=severity, timeout=timeout,
                       markup=False)

    async def on_event(self, event: events.Event) -> None:
        """A paste reaches the focused field with its control characters made visible: typed
        keys never insert one, so a paste is the only way one could reach a field (and, drawn
        from there, the terminal)."""
        if isinstance(event, events.Paste) and not event.is_forwarded:
            event.text = pasted(event.text)
        await super().on_event(event)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header's title and sub-title (the person's name, a screen's record) as typed."""
        return super().format_title(printable(title), printable(sub_title))

    # --- errors: one place ---------------------------------------------------------------

    def report_error(self, error: BaseException | None, *, retry=None, quiet: bool = False) -> None:  # noqa: ANN001
        """Show an error as a user should see it: a clear line, never a traceback. A lost
        database opens a dialog to retry or quit, unless `quiet` (a form's save queue, which
        tries again by itself and says so in its status line): then a message takes no keys."""
        from screens.errors import DatabaseErrorScreen, LostDatabaseScreen, describe_error

        message, is_connection = describe_error(error)
        if is_connection and quiet:
            self.notify(f"{message}. What you typed is kept, on screen and on this computer, and sent again by "
                        "itself when the database is back.", title="Not saved yet", severity="error", timeout=10,
                        markup=False)
        elif is_connection and isinstance(self.screen, DatabaseErrorScreen):
            self.screen.add_retry(retry)  # already on screen: one dialog, not a stack of them
        elif is_connection:  # while opening, q quits; once in use, only Ctrl+Q (keys still typed arrive here)
            opening = retry == self.open_database
            self.push_screen((DatabaseErrorScreen if opening else LostDatabaseScreen)(message, retry=retry))
        else:
            self.notify(message, title="Not saved" if retry is None else "Error", severity="error", timeout=8)

    # --- navigation ------------------------------------------------------------------------

    def action_area(self, mode: str) -> None:
        if self.ready:
            self.switch_mode(mode)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(AREAS, self.screen))

    def action_settings(self) -> None:
        from screens.admin.settings import SettingsScreen

        self.push_screen(SettingsScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "area" and not self.ready:
            return None
        if action in ("area", "quit") and isinstance(self.screen, ModalScreen) and self.screen.focused is None:
            return False  # a dialog just opened: keys typed after its key are for it (screens.dialogs)
        if action == "area" and len(self.screen_stack) > 1:
            # Only from an area's own screen: on a form or a record opened from it (an observation,
            # an audit, a history) a letter typed while a list or a tick box has the focus, or in the
            # instant a form moves the focus, must not leave the form for another area.
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if self.ready:
            for area in AREAS:
                yield SystemCommand(f"Go to {area.title}", area.help,
                                    lambda mode=area.mode: self.switch_mode(mode))
        yield SystemCommand("Help", "Keys and areas", self.action_help)
        if self.ready:
            yield SystemCommand("Settings", "Your identity, default team and theme", self.action_settings)
        yield from getattr(screen, "palette_commands", lambda: ())()
        yield SystemCommand("Quit", "Leave qa-tui", self.exit)
