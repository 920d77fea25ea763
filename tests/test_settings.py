"""Saving settings: the team is checked against the database, the preferences file is written
beside the config (never the config itself) and a change of default team is recorded; a staff ID
is never a setting (who the user is comes from the database); a refused setting writes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import config_path, load_config
from qa_tui.db.engine import Database
from qa_tui.db.models import AuditEvent
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
    with db.session() as s:
        saved = save_settings(s, Preferences(" tm1 ", "B2", "nord"), config, login="nobody")
    # A staff ID is not a setting: who the user is comes from the database, never from here.
    assert saved.preferences == Preferences("", "B2", "nord")
    assert (saved.config.user_staff_id, saved.config.user_team) == ("SW1", "B2")
    assert saved.config.database_url == config.database_url
    assert saved.user is None and saved.team_id == second
    assert saved.path == str(preferences_path(config))
    assert read_preferences(preferences_path(config)) == Preferences("", "B2", "nord")
    assert config_file.read_text(encoding="utf-8") == CONFIG
    with db.reader() as s:  # the change of default team is in the audit trail
        [change] = s.scalars(select(AuditEvent).where(AuditEvent.action == "settings")).all()
    assert (change.old, change.new) == ({"team": None}, {"team": "B2"})


def test_blank_settings_fall_back_to_the_config_file(db: Database, today: date, config_file: Path) -> None:
    team_id = add_team(db, today)
    add_person(db, today, "SW1", team_id=team_id)
    config = load_config(db_override=str(db.engine.url))
    with db.session() as s:
        saved = save_settings(s, Preferences("", "", "textual-dark"), config, login="nobody")
    assert saved.config.user_team == "A1" and saved.team_id == team_id
    with db.reader() as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "settings")) is None


@pytest.mark.parametrize(("wanted", "field"),
                         [(Preferences("", "ZZ"), "Default team")])
def test_an_unknown_staff_id_or_team_is_refused_and_nothing_written(db: Database, today: date, config_file: Path,
                                                                    wanted: Preferences, field: str) -> None:
    config = load_config(db_override=str(db.engine.url))
    with pytest.raises(ValidationError) as caught, db.reader() as s:
        save_settings(s, wanted, config, login="nobody")
    assert caught.value.field == field
    assert not preferences_path(config).exists()
