"""A user's own settings (staff ID, default team, theme): checked against the database, saved to
the preferences file beside their config (the commented config.toml is never rewritten), and
what they make of the config and of who the app takes the user to be."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import Config, load_config
from qa_tui.db.models import Person, Team
from qa_tui.errors import ValidationError
from qa_tui.preferences import Preferences, apply_preferences, preferences_path, write_preferences
from qa_tui.services.people.directory import PersonRef, resolve_user

# Settings field → the label a user sees; every ValidationError names a field by its label.
STAFF_ID_LABEL = "Staff ID"
TEAM_LABEL = "Default team"


@dataclass(frozen=True)
class SettingsCheck:
    """The person and team a user's settings name, as stored in the database ("" when not set)."""

    staff_id: str
    person_name: str
    team_code: str
    team_name: str


@dataclass(frozen=True)
class SettingsSaved:
    preferences: Preferences  # as written, the staff ID spelt as stored
    config: Config  # the config file's values with the new preferences applied
    user: PersonRef | None  # who the app now takes the user to be
    path: str  # the preferences file written


def check_settings(session: Session, staff_id: str, team_code: str) -> SettingsCheck:
    """The person and team a user's settings name; each must exist (blank: not set). Staff IDs
    match ignoring case and come back as stored."""
    person = team = None
    if staff_id.strip():
        person = session.scalar(select(Person).where(func.lower(Person.staff_id) == staff_id.strip().lower()))
        if person is None:
            raise ValidationError(STAFF_ID_LABEL, f"no person has staff ID {staff_id.strip()!r}")
    if team_code.strip():
        team = session.scalar(select(Team).where(Team.code == team_code.strip()))
        if team is None:
            raise ValidationError(TEAM_LABEL, f"no team has the code {team_code.strip()!r}")
    return SettingsCheck(person.staff_id if person else "", person.name if person else "",
                         team.code if team else "", team.name if team else "")


def save_settings(session: Session, wanted: Preferences, config: Config, login: str) -> SettingsSaved:
    """Check the staff ID and team against the database, write the preferences file, and work
    out the config and user they give. Reads the database and writes only the preferences file."""
    check = check_settings(session, wanted.staff_id, wanted.team)
    preferences = replace(wanted, staff_id=check.staff_id, team=check.team_code)
    path = write_preferences(preferences, preferences_path(config))
    # A blank preference falls back to the config file's own value, read afresh.
    base = apply_preferences(load_config(config.path, db_override=config.database_url), preferences)
    applied = replace(config, user_staff_id=base.user_staff_id, user_team=base.user_team)
    user = resolve_user(session, login=login, staff_id=applied.user_staff_id, team_code=applied.user_team)
    return SettingsSaved(preferences, applied, user, str(path))
