"""Settings: the user's default team and theme, saved to preferences.toml beside their config file
(never into the commented config.toml) and applied at once. Who the user is shows here but is
not a setting: the database decides it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Label, Select, Static

from qa_tui.widgets.form_select import FormSelect
from qa_tui.widgets.literal import literal, literal_markup
from screens.base import QAModal
from screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from qa_tui.config import Config
    from qa_tui.services.people.directory import TeamRef
    from qa_tui.services.people.settings import Identity, SettingsSaved


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
    SettingsScreen #settings-grid { grid-size: 2; grid-columns: 16 1fr; grid-rows: auto; grid-gutter: 1 0; height: auto; }
    SettingsScreen #settings-grid Label { color: $text-muted; }
    SettingsScreen #settings-grid > Select { margin-bottom: 0; }
    SettingsScreen #settings-grid > *:focus-within { background: $boost; }
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
                yield Label("You are")
                yield Static("", id="settings-identity")
                yield Label("Default team")
                yield FormSelect([], prompt="from the config file", id="settings-team", compact=True)
                yield Label("Theme")
                yield FormSelect([(literal(name), name) for name in sorted(self.app.available_themes)], allow_blank=False,
                                 value=self.app.theme, id="settings-theme", compact=True)
            yield Static("", classes="error", id="settings-error")
            yield Static("", id="settings-where")
            yield Static("[b]Ctrl+S[/b] save   [b]Tab[/b] next field   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        from qa_tui.preferences import preferences_path, saved_preferences
        from qa_tui.services.people.directory import list_teams
        from qa_tui.services.people.settings import identity

        config = self.qa_app.config
        saved = saved_preferences(config)
        self.theme_on_open = self.app.theme
        self.saved_keys = saved.preferences.keys
        self.query_one("#settings-error", Static).update(literal(saved.problem))
        self.query_one("#settings-where", Static).update(literal(
            f"Saved to {preferences_path(config)}.\nYour config file is never changed. "
            "A blank field keeps the config file's value; a change of default team is recorded in the audit trail."))
        ctx = self.ctx
        self.call_service(lambda s: identity(s, ctx.login), self._identity)
        team = saved.preferences.team
        self.call_service(list_teams, lambda teams: self._teams(teams, team))
        self.query_one("#settings-team", Select).focus()

    def _identity(self, who: Identity) -> None:
        person, shown = who.person, self.query_one("#settings-identity", Static)
        if person is None:
            shown.update(literal(who.how))
        else:
            shown.update(literal_markup("[b]$name[/b] ($staff_id)\n$how", name=person.name,
                                        staff_id=person.staff_id, how=who.how))

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

    def action_save(self) -> None:
        if self.saving:
            return
        from qa_tui.preferences import Preferences
        from qa_tui.services.people.settings import save_settings

        team: Any = self.query_one("#settings-team", Select).selection
        wanted = Preferences(team=team or "", theme=str(self.query_one("#settings-theme", Select).value),
                             keys=self.saved_keys)
        ctx, config = self.ctx, self.qa_app.config
        self.saving = True
        self.call_service(lambda s: save_settings(s, wanted, config, ctx.login), self._saved, on_error=self._refused,
                          write=True)

    def _saved(self, saved: SettingsSaved) -> None:
        self.saving = False
        app, ctx = self.qa_app, self.ctx
        app.config = ctx.config = saved.config
        if saved.team_id is not None:  # the default team shown; who the user is stays as the database says
            ctx.team_id = saved.team_id
        app.theme = saved.preferences.theme
        app.notify(f"Settings saved to {saved.path}.", markup=False)
        self.dismiss(None)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.config import ConfigError
        from qa_tui.errors import QAError, ValidationError
        from qa_tui.services.people.settings import TEAM_LABEL

        self.saving = False
        if not isinstance(error, (QAError, ConfigError, OSError)):
            return False
        message = f"Not saved: {error.strerror} ({error.filename})" if isinstance(error, OSError) else str(error)
        self.query_one("#settings-error", Static).update(literal(message))
        if isinstance(error, ValidationError) and error.field == TEAM_LABEL:
            self.query_one("#settings-team").focus()
        return True

    def action_cancel(self) -> None:
        self.app.theme = self.theme_on_open
        self.dismiss(None)

