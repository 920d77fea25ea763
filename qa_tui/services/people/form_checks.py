"""The checks every hand-kept team, person and case goes through: typed text and dates, values
that must be unique ignoring case, teams and people still active, and saving only when nobody
else changed the record since the form was opened. Every failure names the form field."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.dates import parse_day
from qa_tui.db.base import Record
from qa_tui.db.models import Person, Team
from qa_tui.errors import ChangedElsewhere, NotFound, ValidationError


def checked_text(labels: dict[str, str], field: str, value: str, limit: int, *, required: bool = True) -> str:
    """The text as typed, trimmed: not blank when `required`, and no longer than the column."""
    value = value.strip()
    if required and not value:
        raise ValidationError(labels[field], "must not be blank")
    if len(value) > limit:
        raise ValidationError(labels[field], f"is {len(value)} characters; at most {limit} fit")
    return value


def checked_day(labels: dict[str, str], field: str, value: str) -> date | None:
    """A typed date (day first), or None when left blank."""
    if not value.strip():
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise ValidationError(labels[field], str(exc)) from None


def column_length(column: Any) -> int:
    """How many characters a string column holds."""
    return int(column.type.length)


def is_taken(session: Session, model: type[Record], column: Any, value: str, record_id: uuid.UUID | None) -> bool:
    """True when another record already holds `value` (ignoring case) in `column`."""
    stmt = select(model.id).where(func.lower(column) == value.lower())  # type: ignore[attr-defined]
    if record_id is not None:
        stmt = stmt.where(model.id != record_id)  # type: ignore[attr-defined]
    return session.scalar(stmt.limit(1)) is not None


def load_for_change(session: Session, model: type[Any], record_id: uuid.UUID | None, what: str,
                    expected_version: int | None) -> Any:
    """The record to change, refusing when someone else saved it since the form was opened."""
    record = session.get(model, record_id) if record_id is not None else None
    if record is None:
        raise NotFound(f"{what} no longer exists; reload the list.")
    if expected_version is not None and record.version != expected_version:
        raise ChangedElsewhere(what)
    return record


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush, turning a concurrent writer's change into a message the user can act on."""
    try:
        session.flush()
    except StaleDataError:
        raise ChangedElsewhere(what) from None


def active_team(session: Session, team_id: uuid.UUID | None, label: str, *,
                unchanged: uuid.UUID | None) -> Team | None:
    """The chosen team, which must still be active unless the record already had it."""
    if team_id is None:
        return None
    team = session.get(Team, team_id)
    if team is None:
        raise ValidationError(label, "that team no longer exists; choose another")
    if not team.active and team_id != unchanged:
        raise ValidationError(label, f"{team.name} ({team.code}) is no longer active; choose another")
    return team


def active_person(session: Session, person_id: uuid.UUID | None, label: str, today: date, *,
                  unchanged: uuid.UUID | None) -> Person | None:
    """The chosen person, who must not have left unless the record already had them."""
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None:
        raise ValidationError(label, "that person no longer exists; choose another")
    if person.active_to is not None and person.active_to < today and person_id != unchanged:
        raise ValidationError(label, f"{person.name} ({person.staff_id}) left on {person.active_to:%d/%m/%Y}; "
                                     "choose someone active")
    return person


def set_changed(record: Any, values: dict[str, Any]) -> None:
    """Set only what differs, so the audit trail records real changes."""
    for key, value in values.items():
        if getattr(record, key) != value:
            setattr(record, key, value)
