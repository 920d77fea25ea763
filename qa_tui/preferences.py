"""What a user changes often (staff ID, default team, theme, their own keys), kept in an
app-managed `preferences.toml` beside their config file; the commented config.toml is never
rewritten."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa_tui.config import Config, ConfigError, TableReader, config_path, read_toml
from qa_tui.files import write_private

PREFERENCES_FILE = "preferences.toml"
HEADER = ("# Written by qa-tui from its Settings screen; change these there.\n"
          "# Your own settings belong in config.toml beside this file, which qa-tui never rewrites.\n"
          "# [keys] maps a key's id (shown in help, F1) to your own keys, e.g. help = \"f2\".\n\n")
# One key as Textual names it: modifiers then a name ("ctrl+s", "f1", "question_mark") or one
# printable character ("?", "O"); several are separated by commas.
KEY_NAME = re.compile(r"(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*(?:[a-z][a-z0-9_]*|[^\s,])")


@dataclass(frozen=True)
class Preferences:
    """Blank values leave the config file's [user] defaults (and Textual's theme) in force."""

    staff_id: str = ""
    team: str = ""
    theme: str = ""
    keys: tuple[tuple[str, str], ...] = ()  # (binding id, keys) from [keys], in the file's order


@dataclass(frozen=True)
class SavedPreferences:
    preferences: Preferences
    problem: str = ""  # why the file was ignored, naming file and key; "" when it was fine or absent


def preferences_path(config: Config | None = None) -> Path:
    """The preferences file beside the user's config file."""
    config_file = config.path if config is not None and config.path is not None else config_path()
    return config_file.parent / PREFERENCES_FILE


def read_preferences(path: Path) -> Preferences:
    """The saved preferences (defaults when the file is missing); raises ConfigError naming the
    file and key when it cannot be used."""
    if not path.exists():
        return Preferences()
    top = TableReader(read_toml(path), path, "")
    user = top.table("user")
    staff_id = user.get("staff_id", str, "", "a staff ID string").strip()
    team = user.get("team", str, "", "a team code string").strip()
    user.check_unknown()
    appearance = top.table("appearance")
    theme = appearance.get("theme", str, "", "a Textual theme name such as \"textual-dark\"").strip()
    appearance.check_unknown()
    keys = _read_keys(top.table("keys"))
    top.check_unknown()
    return Preferences(staff_id=staff_id, team=team, theme=theme, keys=keys)


def _read_keys(table: TableReader) -> tuple[tuple[str, str], ...]:
    """[keys]: binding id = "key" or "key1,key2". Whether the id exists is checked by the app,
    which knows its bindings; here each value must name keys."""
    keys = []
    for binding_id in list(table.raw):
        value = table.get(binding_id, str, "", 'a key such as "O", "ctrl+o" or "f2", or several separated by commas')
        names = [_key_name(name) for name in value.split(",")]
        bad = next((name for name in names if not KEY_NAME.fullmatch(name)), None)
        if bad is not None:
            raise ConfigError(table.path, f"keys.{binding_id}", (
                f"{bad!r} is not a key; expected a key such as \"O\", \"ctrl+o\" or \"f2\", "
                "or several separated by commas" if bad else "expected a key, got nothing"))
        keys.append((binding_id, ",".join(names)))
    return tuple(keys)


def _key_name(typed: str) -> str:
    """A key as Textual names it: "Ctrl+O" is "ctrl+o", "F2" is "f2"; a single character on its
    own ("O", "?") is kept as typed, since "O" is shift and "o"."""
    typed = typed.strip()
    return typed if len(typed) == 1 else typed.lower()


def write_preferences(preferences: Preferences, path: Path) -> Path:
    """Write the preferences file (0600, atomically), replacing what was there."""
    import tomli_w

    document: dict[str, Any] = {
        "user": {"staff_id": preferences.staff_id, "team": preferences.team},
        "appearance": {"theme": preferences.theme},
    }
    if preferences.keys:
        document["keys"] = dict(preferences.keys)
    return write_private(path, HEADER + tomli_w.dumps(document))


def saved_preferences(config: Config) -> SavedPreferences:
    """The preferences beside this config; a bad file is ignored with the reason, never raised,
    so the app still starts."""
    try:
        return SavedPreferences(read_preferences(preferences_path(config)))
    except ConfigError as exc:
        return SavedPreferences(Preferences(), f"{exc} (preferences ignored; fix them in Settings)")


def apply_preferences(config: Config, preferences: Preferences) -> Config:
    """The config with the user's preferences over its [user] defaults."""
    return replace(config,
                   user_staff_id=preferences.staff_id or config.user_staff_id,
                   user_team=preferences.team or config.user_team)
