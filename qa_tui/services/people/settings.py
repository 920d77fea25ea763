"""A user's own settings (default team, theme): checked against the database, saved to the
preferences file beside their config (the commented config.toml is never rewritten), with a
change of default team recorded in the audit trail. Who the user is is not a setting: it is
shown here (`identity`) as the database decides it (qa_tui.services.people.owner)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import Config, load_config
from qa_tui.db.models import Person, Team
from qa_tui.errors import ValidationError
from qa_tui.db import trail
from qa_tui.preferences import Preferences, apply_preferences, preferences_path, saved_preferences, write_preferences
from qa_tui.services.people.directory import PersonRef, team_by_code
from qa_tui.services.people.owner import BOUND_BY_PULL, acting_person, laptop_owner, owner_bound_by, pulled_by

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
class Identity:
    person: PersonRef | None  # None: nobody, or (SQLite) no owner named yet
    how: str  # how it is decided, in a sentence


@dataclass(frozen=True)
class SettingsSaved:
    preferences: Preferences  # as written, the staff ID spelt as stored
    config: Config  # the config file's values with the new preferences applied
    user: PersonRef | None  # who the app takes the user to be (unchanged by any setting)
    path: str  # the preferences file written
    team_id: uuid.UUID | None = None  # the default team in force now, if any


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


def identity(session: Session, login: str) -> Identity:
    """Who the app takes the user to be, and why: never a setting they can change."""
    who = acting_person(session, login)
    person = laptop_owner(session) if session.get_bind().dialect.name == "sqlite" else None
    if session.get_bind().dialect.name == "postgresql":
        how = f"You are your database login, {login}."
        if who is None:
            how += " It is the database's owner and linked to no staff record: setting up, unchecked."
        elif who.person_id is None:
            how += " It is linked to no staff record, so you may look but not change anything."
        ref = PersonRef(who.person_id, who.staff_id, who.name, who.role, who.team_id) if who and who.person_id else None
        return Identity(ref, how)
    bound = owner_bound_by(session)
    if bound == BOUND_BY_PULL:
        how = f"This laptop is bound to whoever pulled it ({pulled_by(session) or 'unknown'}); only pulling again changes it."
    elif bound is None:
        how = "No owner is named yet: name yourself when asked at start, or with qa-tui db owner STAFF_ID."
    else:
        how = "You named yourself the owner of this database at set-up (qa-tui db owner changes it, recorded)."
    return Identity(person, how)


def save_settings(session: Session, wanted: Preferences, config: Config, login: str) -> SettingsSaved:
    """Check the team against the database, write the preferences file, record a change of default
    team in the audit trail, and work out the config they give. A staff ID in `wanted` is ignored:
    who the user is comes from the database, never from settings."""
    check = check_settings(session, "", wanted.team)
    preferences = replace(wanted, staff_id="", team=check.team_code)
    before = saved_preferences(config).preferences
    path = write_preferences(preferences, preferences_path(config))
    # A blank preference falls back to the config file's own value, read afresh.
    base = apply_preferences(load_config(config.path, db_override=config.database_url), preferences)
    applied = replace(config, user_team=base.user_team)
    if before.team != preferences.team:
        trail.record_event(session, "settings", "preferences", None, old={"team": before.team or None},
                           new={"team": preferences.team or None},
                           detail=f"default team changed in Settings ({path})")
    team = team_by_code(session, applied.user_team) if applied.user_team else None
    return SettingsSaved(preferences, applied, identity(session, login).person, str(path), team.id if team else None)
