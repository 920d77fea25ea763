"""Help: the keys of the screen it was opened from (shown on the footer or not), then the areas and
the keys that work everywhere, with each key's id for the [keys] table of preferences.toml."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from qa_tui.widgets.literal import literal

if TYPE_CHECKING:
    from qa_tui.app import Area


@dataclass(frozen=True)
class KeyLine:
    keys: str  # as shown: "n, pagedown"
    what: str
    binding_id: str


def keys_table(lines: Sequence[KeyLine]) -> Table:
    """Key, what it does, and its id (for preferences.toml), one row each."""
    table = Table.grid(padding=(0, 2), expand=True)
    table.add_column(no_wrap=True, style="bold", min_width=9)
    table.add_column(ratio=1)
    table.add_column(no_wrap=True, style="dim")
    for line in lines:
        table.add_row(literal(line.keys), literal(line.what), literal(line.binding_id))
    return table


def screen_keys(screen: Screen[object]) -> list[KeyLine]:
    """The keys `screen` answers now, from its focused widget up to the screen itself (the app's
    own keys are listed apart), footer keys first; each binding once, with all its keys."""
    app = screen.app
    found: dict[str, tuple[Binding, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if active.node is app or not binding.id:
            continue  # the app's keys, or a Textual widget's own (cursor keys and the like)
        display = app.get_key_display(replace(binding, key=key, key_display=None))
        found.setdefault(binding.id, (binding, []))[1].append(display)
    ordered = sorted(found.items(), key=lambda item: not item[1][0].show)  # stable: footer order kept
    return [KeyLine(", ".join(keys), _what(binding), binding_id) for binding_id, (binding, keys) in ordered]


def app_keys(screen: Screen[object], areas: Sequence[Area]) -> tuple[list[KeyLine], list[KeyLine]]:
    """(areas, everywhere): the app's keys as the user has them; an area whose key this screen
    takes for itself says so."""
    app = screen.app
    mine = {active.binding.id: key for key, active in screen.active_bindings.items() if active.node is app}
    taken = {key: active.binding for key, active in screen.active_bindings.items() if active.node is not app}
    area_lines = []
    for area in areas:
        binding_id = f"area-{area.mode}"
        key = mine.get(binding_id)
        if key is None:  # this screen uses the key: say what for
            other = taken.get(area.key)
            where = (f" (here {area.key} is {_what(other).lower()}: Esc first)" if other is not None
                     else f": {area.help} (from an area's own screen: Esc first)")
            area_lines.append(KeyLine(area.key, f"{area.title}{where}", binding_id))
        else:
            area_lines.append(KeyLine(app.get_key_display(Binding(key, "")), f"{area.title}: {area.help}", binding_id))
    help_keys = ", ".join(app.get_key_display(Binding(k, "")) for k, a in screen.active_bindings.items()
                          if a.node is app and a.binding.id == "help") or "F1, ?"
    everywhere = [KeyLine("Ctrl+P", "Command palette: every screen and frequent action by name", ""),
                  KeyLine(help_keys, "This help", "help"),
                  KeyLine("q", "Quit", "quit"),
                  KeyLine("Tab", "Next field (Shift+Tab: the one before); Esc leaves a dialog or goes back", "")]
    return area_lines, everywhere


def _what(binding: Binding) -> str:
    if binding.description and binding.tooltip:
        return f"{binding.description}: {binding.tooltip}"
    return binding.description or binding.tooltip


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96; max-height: 28; border: thick $accent; padding: 0 1; background: $surface; }
    HelpScreen .help-heading { text-style: bold; margin-top: 1; }
    HelpScreen .help-note { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "close", "Close", id="help-close", tooltip="Close the help")]

    def __init__(self, areas: Sequence[Area], opened_from: Screen[object]) -> None:
        super().__init__()
        self.areas = areas
        self.opened_from = opened_from
        self.here = screen_keys(opened_from)
        self.area_lines, self.everywhere = app_keys(opened_from, areas)

    def compose(self) -> ComposeResult:
        from qa_tui.preferences import preferences_path

        config = getattr(self.app, "config", None)
        with VerticalScroll():
            if self.here:
                yield Static("On this screen", classes="help-heading")
                yield Static(keys_table(self.here), id="help-screen-keys")
            yield Static("Areas: one key from any area's own screen", classes="help-heading")
            yield Static(keys_table(self.area_lines), id="help-areas")
            yield Static("Everywhere", classes="help-heading")
            yield Static(keys_table(self.everywhere), id="help-everywhere")
            yield Static(literal(
                f"Your own keys: in {preferences_path(config)}, add a [keys] table with a line for each key "
                "you want to move, by the id shown on its right, e.g. help = \"f2\"."), classes="help-note")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss()
