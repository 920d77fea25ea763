"""People and cases as they stood at the end of a day: the changes the audit trail records after
it (a move of team, a new role, a leaving date) are undone, so a closed period's report counts
who was in which team, in which role and in post at its end, and a case for the team it had."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.dates import start_of_day
from qa_tui.db.models import AuditEvent, Case, Person
from qa_tui.services.audits.record import local_date

PERSON_FIELDS = {"team_id": "id", "manager_id": "id", "role": "text", "active_from": "date", "active_to": "date",
                 "asye_start": "date"}
CASE_FIELDS = {"team_id": "id", "worker_id": "id"}
# The records of QA work: the first of them ends the set-up (people and cases loaded before any).
QA_WORK_TABLES = ("audit", "observation", "supervision", "case_draw", "feedback")
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


def added_since_set_up(session: Session, day: date) -> dict[uuid.UUID, date]:
    """People added after the end of `day` once the app was in use (after its first QA work was
    recorded), with the day each was added. People loaded at set-up are not among them: a council's
    first import comes after the periods it reports on, and its people were in post then."""
    set_up_ended = session.scalar(select(func.min(AuditEvent.at)).where(
        AuditEvent.action == "insert", AuditEvent.table_name.in_(QA_WORK_TABLES)))
    if set_up_ended is None:
        return {}
    added = session.execute(select(AuditEvent.record_id, func.min(AuditEvent.at)).where(
        AuditEvent.table_name == Person.__tablename__, AuditEvent.action == "insert",
        AuditEvent.at >= start_of_day(day + timedelta(days=1)), AuditEvent.at > set_up_ended)
        .group_by(AuditEvent.record_id))
    return {uuid.UUID(record_id): local_date(at) for record_id, at in added if record_id}


def people_as_at(session: Session, people: dict[uuid.UUID, Row], day: date) -> dict[uuid.UUID, Row]:
    """`people` (frozen rows with the person's fields) as they stood at the end of `day`. Someone
    added after it with no start date is taken to have started on the day they were added, so a
    closed period's figures stay as they were (a start date given says when they really began)."""
    before = values_before(session, Person.__tablename__, PERSON_FIELDS, day)
    for pid, added_on in added_since_set_up(session, day).items():
        if pid in people and before.get(pid, {}).get("active_from", people[pid].active_from) is None:  # type: ignore[attr-defined]
            before.setdefault(pid, {})["active_from"] = added_on
    return {pid: replace(p, **before[pid]) if pid in before else p  # type: ignore[type-var]
            for pid, p in people.items()}


def cases_as_at(session: Session, cases: Iterable[Row], day: date) -> list[Row]:
    """Case rows (with `id`, `team_id` and `worker_id`) with the team and worker they had at the end of `day`."""
    before = values_before(session, Case.__tablename__, CASE_FIELDS, day)
    return [replace(c, **before[c.id]) if c.id in before else c for c in cases]  # type: ignore[attr-defined,type-var]

