"""Keys: every binding has an id and a tooltip, so a user's [keys] table in preferences.toml can
move any of them; a bad entry is named by file and id and left out, and the rest still apply."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from qa_tui.app import AREAS, QAApp
from qa_tui.config import ConfigError, config_path
from qa_tui.db.engine import Database
from qa_tui.preferences import Preferences, preferences_path, read_preferences, write_preferences
from screens.keymap import check_keymap, declared_bindings
from tests.pilot import SIZE, make_app, make_context, settle, url_of
from tests.test_screens_admin import TODAY, seeded  # noqa: F401  (seeded is a fixture)

APP_BINDINGS = [(QAApp, binding) for binding in QAApp.BINDINGS]


def every_binding() -> list[tuple[type, object]]:
    return list(declared_bindings(APP_BINDINGS))


def test_every_binding_has_an_id_and_a_tooltip() -> None:
    missing = [f"{cls.__module__}.{cls.__name__}: {b.key} {b.action}" for cls, b in every_binding()
               if not b.id or not b.tooltip]
    assert missing == []
    assert len(every_binding()) > 150  # every screen was found, not just a few


def test_an_id_used_twice_means_the_same_key_so_a_keymap_entry_moves_one_thing() -> None:
    keys_of: dict[str, set[str]] = defaultdict(set)
    for _cls, binding in every_binding():
        keys_of[binding.id].add(binding.key)
    assert {i: k for i, k in keys_of.items() if len(k) > 1} == {}


def prefs_file(text: str) -> Path:
    path = config_path().parent / "preferences.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_keys_are_read_with_their_ids_and_typed_names_made_textuals() -> None:
    path = prefs_file('[keys]\narea-triage = "T"\nhelp = "F2, ?"\ntriage-search = "Ctrl+F"\n')
    assert read_preferences(path).keys == (("area-triage", "T"), ("help", "f2,?"), ("triage-search", "ctrl+f"))


@pytest.mark.parametrize(("text", "where"), [
    ('[keys]\nhelp = 2\n', "keys.help: expected a key such as"),
    ('[keys]\nhelp = ""\n', "keys.help: expected a key, got nothing"),
    ('[keys]\nhelp = "ctrl s"\n', "keys.help: 'ctrl s' is not a key"),
    ('keys = "T"\n', "[keys]: expected a table"),
])
def test_a_key_that_cannot_be_read_names_the_file_and_the_entry(text: str, where: str) -> None:
    path = prefs_file(text)
    with pytest.raises(ConfigError) as caught:
        read_preferences(path)
    assert str(caught.value).startswith(f"{path}: ") and where in str(caught.value)


def test_unknown_ids_and_keys_are_left_out_each_with_its_reason() -> None:
    path = Path("/home/me/.config/qa-tui/preferences.toml")
    checked = check_keymap([("area-triage", "T"), ("triag-search", "f3"), ("help", "f2,hyperdrive")],
                           path, every_binding())
    assert checked.keymap == {"area-triage": "T"}
    assert checked.problems == (
        f"{path}: keys.triag-search: no key has this id; did you mean 'triage-search'?",
        f"{path}: keys.help: 'hyperdrive' is not a key Textual knows (try \"f2\", \"ctrl+o\" or \"O\")",
    )


def test_saving_settings_keeps_the_users_keys() -> None:
    path = preferences_path()
    write_preferences(Preferences(staff_id="SW1", keys=(("area-triage", "T"),)), path)
    assert read_preferences(path) == Preferences(staff_id="SW1", keys=(("area-triage", "T"),))
    assert "[keys]" in path.read_text(encoding="utf-8")


async def test_the_users_keys_apply_and_a_bad_entry_is_named(seeded: Database) -> None:  # noqa: F811
    path = prefs_file('[keys]\narea-triage = "T"\nhelp = "f2"\narea-trage = "x"\n')
    ctx = make_context(url_of(seeded), today=TODAY, staff_id="TM1")
    app = make_app(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any(f"{path}: keys.area-trage: no key has this id; did you mean 'area-triage'?" in m
                   for m in messages), messages
        await pilot.press("t")  # moved away: no longer Triage
        await settle(pilot)
        assert app.screen.__class__.__name__ == "DashboardScreen"
        await pilot.press("T")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "TriageScreen"
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("escape", "d", "a", "comma")  # Settings saves the preferences file again
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SettingsScreen"
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert ("area-triage", "T") in read_preferences(path).keys
    ctx.db.dispose()


def test_a_key_another_binding_of_the_screen_keeps_is_left_out_not_silently_taken() -> None:
    path = Path("preferences.toml")
    checked = check_keymap([("admin-new", "e"), ("admin-edit", "E"), ("admin-search", "h")], path, every_binding())
    assert checked.keymap == {"admin-new": "e", "admin-edit": "E"}  # Edit moved out of the way first
    assert checked.problems == (f"{path}: keys.admin-search: 'h' is already Inactive (admin-inactive) on AdminScreen; "
                                "left out",)
