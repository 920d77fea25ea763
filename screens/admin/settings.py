"""Settings: the user's staff ID, default team and theme, saved to preferences.toml beside their
config file (never into the commented config.toml) and applied at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Input, Label, Select, Static

from qa_tui.widgets.literal import literal
from screens.base import QAModal
from screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from qa_tui.config import Config
    from qa_tui.services.people.directory import TeamRef
    from qa_tui.services.people.settings import SettingsSaved


def apply_saved_appearance(app: App[Any], config: Config) -> None:
    """At start-up: use the saved theme, and say (without stopping) when the preferences file
    cannot be used or names a theme that does not exist."""
    from qa_tui.preferences import preferences_path, saved_preferences

    saved = saved_preferences(config)
    if saved.problem:
        app.notify(saved.problem, title="Preferences", severity="warning", timeout=15, markup=False)
    theme = saved.preferences.theme
    if theme in app.available_themes:
        app.theme = theme
    elif theme:
        app.notify(f"{preferences_path(config)}: appearance.theme: no theme called {theme!r}; "
                   "choose one in Settings", title="Preferences", severity="warning", timeout=15, markup=False)


class SettingsScreen(QAModal[None]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="SettingsScreen") + """
    SettingsScreen > Vertical { width: 90; max-height: 30; }
    SettingsScreen #settings-grid { grid-size: 2; grid-columns: 16 1fr; grid-rows: 1; grid-gutter: 1 0; height: auto; }
    SettingsScreen #settings-grid Label { color: $text-muted; }
    SettingsScreen #settings-grid > Input, SettingsScreen #settings-grid > Select { margin-bottom: 0; }
    SettingsScreen #settings-grid > *:focus-within, SettingsScreen #settings-grid > Input:focus { background: $boost; }
    SettingsScreen #settings-where { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="settings-save", tooltip="Save and use these settings"),
                Binding("escape", "cancel", "Cancel", id="settings-cancel", tooltip="Close without saving")]

    def __init__(self) -> None:
        super().__init__()
        self.saving = False
        self.theme_on_open = ""
        self.saved_keys: tuple[tuple[str, str], ...] = ()  # [keys] is not edited here, only kept

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Settings", classes="title")
            with Grid(id="settings-grid"):
                yield Label("Staff ID")
                yield Input(id="settings-staff-id", compact=True, placeholder="your staff ID in the QA database")
                yield Label("Default team")
                yield Select([], prompt="from the config file", id="settings-team", compact=True)
                yield Label("Theme")
                yield Select([(literal(name), name) for name in sorted(self.app.available_themes)], allow_blank=False,
                             value=self.app.theme, id="settings-theme", compact=True)
            yield Static("", classes="error", id="settings-error")
            yield Static("", id="settings-where")
            yield Static("[b]Ctrl+S[/b] save   [b]Tab[/b] next field   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.preferences import preferences_path, saved_preferences
        from qa_tui.services.people.directory import list_teams

        config = self.qa_app.config
        saved = saved_preferences(config)
        self.theme_on_open = self.app.theme
        self.saved_keys = saved.preferences.keys
        self.query_one("#settings-staff-id", Input).value = saved.preferences.staff_id
        self.query_one("#settings-staff-id", Input).placeholder = (
            f"from the config file: {config.user_staff_id}" if config.user_staff_id else "your staff ID")
        self.query_one("#settings-error", Static).update(literal(saved.problem))
        self.query_one("#settings-where", Static).update(literal(
            f"Saved to {preferences_path(config)}.\nYour config file is never changed. "
            "A blank field keeps the config file's value. On a shared database your login decides who you "
            "are; the staff ID is used when your login is not linked to a person."))
        team = saved.preferences.team
        self.call_service(list_teams, lambda teams: self._teams(teams, team))
        self.query_one("#settings-staff-id", Input).focus()

    def _teams(self, teams: list[TeamRef], current: str) -> None:
        select = self.query_one("#settings-team", Select)
        options = [(f"{t.name} ({t.code})", t.code) for t in teams]
        if current and all(code != current for _, code in options):
            options.append((f"{current} (not an active team)", current))
        select.set_options([(literal(label), code) for label, code in options])
        if current:
            select.value = current

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "settings-theme" and isinstance(event.value, str):
            self.app.theme = event.value  # try it on at once; Esc puts the old one back

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def action_save(self) -> None:
        if self.saving:
            return
        from qa_tui.preferences import Preferences
        from qa_tui.services.people.settings import save_settings

        team: Any = self.query_one("#settings-team", Select).selection
        wanted = Preferences(staff_id=self.query_one("#settings-staff-id", Input).value.strip(),
                             team=team or "", theme=str(self.query_one("#settings-theme", Select).value),
                             keys=self.saved_keys)
        ctx, config = self.ctx, self.qa_app.config
        self.saving = True
        self.call_service(lambda s: save_settings(s, wanted, config, ctx.login), self._saved, on_error=self._refused)

    def _saved(self, saved: SettingsSaved) -> None:
        self.saving = False
        app, ctx = self.qa_app, self.ctx
        app.config = ctx.config = saved.config
        user = saved.user
        ctx.person_id, ctx.person_name, ctx.team_id = (user.id, user.name, user.team_id) if user else (None, "", None)
        app.theme = saved.preferences.theme
        app.notify(f"Settings saved to {saved.path}.", markup=False)
        self.dismiss(None)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.config import ConfigError
        from qa_tui.errors import QAError, ValidationError
        from qa_tui.services.people.settings import STAFF_ID_LABEL, TEAM_LABEL

        self.saving = False
        if not isinstance(error, (QAError, ConfigError, OSError)):
            return False
        message = f"Not saved: {error.strerror} ({error.filename})" if isinstance(error, OSError) else str(error)
        self.query_one("#settings-error", Static).update(literal(message))
        field_ids = {STAFF_ID_LABEL: "#settings-staff-id", TEAM_LABEL: "#settings-team"}
        if isinstance(error, ValidationError) and error.field in field_ids:
            self.query_one(field_ids[error.field]).focus()
        return True

    def action_cancel(self) -> None:
        self.app.theme = self.theme_on_open
        self.dismiss(None)

