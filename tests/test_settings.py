"""Saving settings: the staff ID and team are checked against the database, the preferences file
is written beside the config (never the config itself), and the config and user they give come
back to the app; a refused setting writes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from qa_tui.config import config_path, load_config
from qa_tui.db.engine import Database
from qa_tui.errors import ValidationError
from qa_tui.preferences import Preferences, preferences_path, read_preferences
from qa_tui.services.people.settings import save_settings
from tests.test_admin import add_person, add_team

CONFIG = '# my settings\n[user]\nstaff_id = "SW1"\nteam = "A1"\n'


@pytest.fixture
def config_file() -> Path:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_saved_preferences_are_written_checked_and_applied(db: Database, today: date, config_file: Path) -> None:
    first = add_team(db, today)
    second = add_team(db, today, "B2", "Fostering")
    add_person(db, today, "SW1", team_id=first)
    add_person(db, today, "TM1", role="TM", team_id=first)
    config = load_config(db_override=str(db.engine.url))
    with db.reader() as s:
        saved = save_settings(s, Preferences(" tm1 ", "B2", "nord"), config, login="nobody")
    assert saved.preferences == Preferences("TM1", "B2", "nord")  # the staff ID as stored
    assert (saved.config.user_staff_id, saved.config.user_team) == ("TM1", "B2")
    assert saved.config.database_url == config.database_url
    assert saved.user is not None and (saved.user.staff_id, saved.user.team_id) == ("TM1", second)
    assert saved.path == str(preferences_path(config))
    assert read_preferences(preferences_path(config)) == Preferences("TM1", "B2", "nord")
    assert config_file.read_text(encoding="utf-8") == CONFIG


def test_blank_settings_fall_back_to_the_config_file(db: Database, today: date, config_file: Path) -> None:
    team_id = add_team(db, today)
    add_person(db, today, "SW1", team_id=team_id)
    config = load_config(db_override=str(db.engine.url))
    with db.reader() as s:
        saved = save_settings(s, Preferences("", "", "textual-dark"), config, login="nobody")
    assert (saved.config.user_staff_id, saved.config.user_team) == ("SW1", "A1")
    assert saved.user is not None and saved.user.staff_id == "SW1"


@pytest.mark.parametrize(("wanted", "field"),
                         [(Preferences("NOPE"), "Staff ID"), (Preferences("", "ZZ"), "Default team")])
def test_an_unknown_staff_id_or_team_is_refused_and_nothing_written(db: Database, today: date, config_file: Path,
                                                                    wanted: Preferences, field: str) -> None:
    config = load_config(db_override=str(db.engine.url))
    with pytest.raises(ValidationError) as caught, db.reader() as s:
        save_settings(s, wanted, config, login="nobody")
    assert caught.value.field == field
    assert not preferences_path(config).exists()
