"""Preferences are written beside the config file and read back over its [user] defaults; the
commented config.toml is never touched, and a bad preferences file is named, ignored, survived."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest

from qa_tui.commands.common import load
from qa_tui.config import ConfigError, config_path, load_config
from qa_tui.preferences import (
    Preferences,
    apply_preferences,
    preferences_path,
    read_preferences,
    saved_preferences,
    write_preferences,
)

CONFIG = """# My council's settings. Comments like this one must survive.
[user]
staff_id = "TM1"   # the team manager
team = "A1"
name = "Morgan"
"""


@pytest.fixture
def config_file() -> Path:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(CONFIG, encoding="utf-8")
    return path


def args() -> argparse.Namespace:
    return argparse.Namespace(config=None, db=None)


def test_written_beside_the_config_read_back_and_applied(config_file: Path) -> None:
    config = load_config()
    path = preferences_path(config)
    assert path == config_file.parent / "preferences.toml"

    write_preferences(Preferences(staff_id="SW9", team="B2", theme="nord"), path)

    assert config_file.read_text(encoding="utf-8") == CONFIG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_preferences(path) == Preferences("SW9", "B2", "nord")
    assert path.read_text(encoding="utf-8").startswith("# Written by qa-tui")
    applied = load(args())
    assert (applied.user_staff_id, applied.user_team, applied.user_name) == ("SW9", "B2", "Morgan")
    assert not list(config_file.parent.glob(".*.tmp"))


def test_blank_preferences_leave_the_config_defaults(config_file: Path) -> None:
    config = load_config()
    write_preferences(Preferences(theme="nord"), preferences_path(config))
    applied = apply_preferences(config, saved_preferences(config).preferences)
    assert (applied.user_staff_id, applied.user_team) == ("TM1", "A1")


def test_without_a_config_file_the_preferences_dir_is_made_private(tmp_path: Path) -> None:
    path = preferences_path(load_config())
    write_preferences(Preferences(staff_id="SW1"), path)
    assert path.parent == config_path().parent
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load(args()).user_staff_id == "SW1"


@pytest.mark.parametrize(("text", "where"), [
    ("[user]\nstaff_id = 42\n", "user.staff_id: expected a staff ID string, got int 42"),
    ("[user]\nnickname = \"x\"\n", "user.nickname: unknown key"),
    ("[appearance]\ntheme = [\"nord\"]\n", "appearance.theme: expected a Textual theme name"),
    ("colour = \"red\"\n", "[colour]: unknown key"),
    ("[user\nstaff_id = \"x\"\n", "not valid TOML"),
])
def test_a_bad_file_names_file_and_key_and_is_ignored(config_file: Path, text: str, where: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file.parent / "preferences.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_preferences(path)
    assert str(caught.value).startswith(f"{path}: ") and where in str(caught.value)

    saved = saved_preferences(load_config())
    assert saved.preferences == Preferences() and where in saved.problem and str(path) in saved.problem

    config = load(args())  # every command (and the app) still starts, on the config's own values
    assert config.user_staff_id == "TM1"
    err = capsys.readouterr().err
    assert "warning" in err and where in err


def test_an_unreadable_file_is_reported_not_raised(config_file: Path) -> None:
    (config_file.parent / "preferences.toml").mkdir()
    assert "cannot be read (Is a directory)" in saved_preferences(load_config()).problem
