"""People and cases as they stood at the end of a day: the changes the audit trail records after
it (a move of team, a new role, a leaving date) are undone, so a closed period's report counts
who was in which team, in which role and in post at its end, and a case for the team it had."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.dates import start_of_day
from qa_tui.db.models import AuditEvent, Case, Person

PERSON_FIELDS = {"team_id": "id", "manager_id": "id", "role": "text", "active_from": "date", "active_to": "date",
                 "asye_start": "date"}
CASE_FIELDS = {"team_id": "id", "worker_id": "id"}
Row = TypeVar("Row")


def _value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "id":
        return uuid.UUID(str(value))
    if kind == "date":
        return date.fromisoformat(str(value)[:10])
    return value


def values_before(session: Session, table: str, fields: dict[str, str], day: date) -> dict[uuid.UUID, dict[str, Any]]:
    """Per record of `table`, the value each of `fields` had at the end of `day`, for the fields
    changed since: the old value of the first change after it."""
    events = session.execute(
        select(AuditEvent.record_id, AuditEvent.old).where(
            AuditEvent.table_name == table, AuditEvent.action == "update",
            AuditEvent.at >= start_of_day(day + timedelta(days=1)))
        .order_by(AuditEvent.at.desc()))
    before: dict[uuid.UUID, dict[str, Any]] = {}
    for record_id, old in events:  # newest first: the earliest change's old value is written last
        if not record_id or not old:
            continue
        changed = {key: _value(kind, old[key]) for key, kind in fields.items() if key in old}
        if changed:
            before.setdefault(uuid.UUID(record_id), {}).update(changed)
    return before


def people_as_at(session: Session, people: dict[uuid.UUID, Row], day: date) -> dict[uuid.UUID, Row]:
    """`people` (frozen rows with the person's fields) as they stood at the end of `day`."""
    before = values_before(session, Person.__tablename__, PERSON_FIELDS, day)
    return {pid: replace(p, **before[pid]) if pid in before else p  # type: ignore[type-var]
            for pid, p in people.items()}


def cases_as_at(session: Session, cases: Iterable[Row], day: date) -> list[Row]:
    """Case rows (with `id`, `team_id` and `worker_id`) with the team and worker they had at the end of `day`."""
    before = values_before(session, Case.__tablename__, CASE_FIELDS, day)
    return [replace(c, **before[c.id]) if c.id in before else c for c in cases]  # type: ignore[attr-defined,type-var]

