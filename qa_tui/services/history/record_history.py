"""One record's history from the audit trail: who changed what and when, old → new, with the
people who did it named: as the event recorded them (its person columns, the name at the time),
or, for an event without them (older events, the app's own set-up), the person the actor string
(a login or a staff ID) names today.
An audit's history takes in its grades, participants and moderations; an action's, the
extensions, reassignments and completions stored beside it with their reasons."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_tui.db.models import (
    Action,
    ActionChange,
    Audit,
    AuditEvent,
    AuditGrade,
    AuditParticipant,
    AuditTemplate,
    Case,
    Escalation,
    Moderation,
    Observation,
    Person,
    Team,
)
from qa_tui.errors import NotFound
from qa_tui.services.audits.participants import OVERALL

RECORD_KINDS = {"audit": Audit, "action": Action, "observation": Observation, "person": Person,
                "escalation": Escalation}
WHAT = {"insert": "created", "update": "changed", "delete": "deleted"}
EMPTY = "—"


@dataclass(frozen=True)
class HistoryRow:
    at: datetime  # when it was stored (UTC)
    who: str  # "Name (staff ID)": the event's own person, else the person its actor names, else the actor
    what: str  # created / changed / deleted / extended / … and the part of the record
    field: str  # the field changed, "" for a whole-record event
    old: str
    new: str
    detail: str  # a reason or a note the event carries


@dataclass(frozen=True)
class RecordHistory:
    kind: str
    title: str
    rows: tuple[HistoryRow, ...]  # oldest first


def record_history(session: Session, kind: str, record_id: uuid.UUID) -> RecordHistory:
    """Everything the trail holds about one record and the rows that belong to it, oldest first."""
    model = RECORD_KINDS.get(kind)
    if model is None:
        raise NotFound(f"No history is kept for {kind!r} records.")
    record = session.get(model, record_id)
    if record is None:
        raise NotFound(f"The {kind} {record_id} does not exist.")
    parts: dict[str, tuple[str, str]] = {str(record_id): (kind, "")}  # record id → (table, part label)
    scale: tuple[str, ...] = ()
    if isinstance(record, Audit):
        template = session.get(AuditTemplate, record.template_id)
        scale = tuple(template.scale) if template else ()
        labels = {d["key"]: d["label"] for d in (template.domains if template else [])}
        labels[OVERALL] = "Overall"
        for grade_id, domain, participant in session.execute(
                select(AuditGrade.id, AuditGrade.domain, Person.name).outerjoin(Person, Person.id == AuditGrade.participant_id)
                .where(AuditGrade.audit_id == record_id)):
            part = f"grade: {labels.get(domain, domain)}" + (f" ({participant}'s own)" if participant else "")
            parts[str(grade_id)] = ("audit_grade", part)
        for table, column in ((Moderation, Moderation.audit_id), (AuditParticipant, AuditParticipant.audit_id),
                              (Action, Action.audit_id)):
            for row_id in session.scalars(select(table.id).where(column == record_id)):
                parts[str(row_id)] = (table.__tablename__, table.__tablename__.replace("_", " "))
    events = session.scalars(select(AuditEvent).where(AuditEvent.record_id.in_(parts))
                             .order_by(AuditEvent.at, AuditEvent.id)).all()
    # An action's own history (extended, reassigned, done, with reasons): for an action, and for
    # each action an audit raised.
    action_titles: dict[uuid.UUID, str] = {}
    if isinstance(record, (Action, Audit)):
        which = Action.id == record_id if isinstance(record, Action) else Action.audit_id == record_id
        action_titles = dict(session.execute(select(Action.id, Action.title).where(which)).all())
    changes = session.scalars(select(ActionChange).where(ActionChange.action_id.in_(list(action_titles)))
                              .order_by(ActionChange.changed_on, ActionChange.created_at)).all() if action_titles else []
    names = _Names(session, [e.actor for e in events], _ids_in(events) | {c.changed_by_id for c in changes})
    rows = [row for e in events for row in _event_rows(e, parts, names, scale)]
    rows += [HistoryRow(c.created_at, names.person(c.changed_by_id),
                        c.change if isinstance(record, Action) else f"{c.change} action: {action_titles[c.action_id]}",
                        "", c.old_value or EMPTY, c.new_value or EMPTY, c.reason) for c in changes]
    rows.sort(key=lambda r: r.at)
    return RecordHistory(kind, _title(session, record), tuple(rows))


def actor_name(session: Session, actor: str) -> str:
    """The person the trail's actor string names, as "Name (staff ID)", or the string as it is."""
    return _Names(session, [actor], set()).actor(actor)


class _Names:
    """People, teams and cases named in one history, looked up once."""

    def __init__(self, session: Session, actors: Iterable[str], ids: set[Any]) -> None:
        actors = {a for a in actors if a}
        keys = actors | {a.split()[0] for a in actors if a.split()}
        self.by_key: dict[str, str] = {}
        for login, staff_id, name in session.execute(select(Person.login, Person.staff_id, Person.name).where(
                or_(Person.login.in_(keys), Person.staff_id.in_(keys)))):
            label = f"{name} ({staff_id})"
            self.by_key[staff_id] = label
            if login:
                self.by_key.setdefault(login, label)
        uuids = {_as_uuid(i) for i in ids} - {None}
        self.by_id: dict[str, str] = {}
        if uuids:
            for pid, name, staff_id in session.execute(select(Person.id, Person.name, Person.staff_id)
                                                       .where(Person.id.in_(uuids))):
                self.by_id[str(pid)] = f"{name} ({staff_id})"
            for tid, name in session.execute(select(Team.id, Team.name).where(Team.id.in_(uuids))):
                self.by_id[str(tid)] = name
            for cid, reference in session.execute(select(Case.id, Case.reference).where(Case.id.in_(uuids))):
                self.by_id[str(cid)] = reference

    def actor(self, actor: str) -> str:
        if actor in self.by_key:
            return self.by_key[actor]
        first = actor.split()[0] if actor.split() else ""
        return self.by_key.get(first, actor or "unknown")

    def person(self, person_id: uuid.UUID | None) -> str:
        return self.by_id.get(str(person_id), EMPTY) if person_id else EMPTY

    def value(self, value: Any) -> str:
        if value is None or value == "":
            return EMPTY
        if isinstance(value, str) and value in self.by_id:
            return self.by_id[value]
        if isinstance(value, dict):
            return "; ".join(f"{k}: {self.value(v)}" for k, v in value.items())
        if isinstance(value, list):
            return ", ".join(self.value(v) for v in value)
        return str(value)


def _event_rows(event: AuditEvent, parts: dict[str, tuple[str, str]], names: _Names,
                scale: tuple[str, ...]) -> list[HistoryRow]:
    _table, part = parts.get(event.record_id or "", ("", ""))
    what = WHAT.get(event.action, event.action) + (f" {part}" if part else "")
    who = _recorded_person(event) or names.actor(event.actor)
    old, new = event.old or {}, event.new or {}
    if event.action == "update":
        return [HistoryRow(event.at, who, what, field, _shown(field, old.get(field), names, scale),
                           _shown(field, new.get(field), names, scale), event.detail)
                for field in sorted(set(old) | set(new))]
    summary = new if event.action == "insert" else old
    shown = _summary(summary, names, scale) if part else ""
    return [HistoryRow(event.at, who, what, "", "" if event.action == "insert" else shown,
                       shown if event.action == "insert" else "", event.detail)]


def _recorded_person(event: AuditEvent) -> str:
    """The person the event itself names (as they were named then), or "" when it names nobody."""
    name, staff_id = (event.person_name or "").strip(), (event.person_staff_id or "").strip()
    if name and staff_id:
        return f"{name} ({staff_id})"
    return name or staff_id


def _summary(values: dict[str, Any], names: _Names, scale: tuple[str, ...]) -> str:
    keep = ("grade", "outcome", "overall_grade", "comment", "person_id", "title", "due_on", "owner_id")
    return "; ".join(f"{k}: {_shown(k, values[k], names, scale)}" for k in keep if values.get(k) not in (None, ""))


def _shown(field: str, value: Any, names: _Names, scale: tuple[str, ...]) -> str:
    if field in ("grade", "overall_grade") and isinstance(value, int) and 0 <= value < len(scale):
        return f"{value + 1} {scale[value]}"
    return names.value(value)


def _ids_in(events: Iterable[AuditEvent]) -> set[Any]:
    found: set[Any] = set()
    for e in events:
        for values in (e.old or {}, e.new or {}):
            found.update(v for k, v in values.items() if k.endswith("_id") and isinstance(v, str))
    return found


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _title(session: Session, record: Any) -> str:
    if isinstance(record, Audit):
        case = session.get(Case, record.case_id) if record.case_id else None
        return f"Audit of {case.reference if case else 'no case'} on {record.audit_date:%-d %b %Y}"
    if isinstance(record, Action):
        return f"Action: {record.title}"
    if isinstance(record, Observation):
        worker = session.get(Person, record.worker_id)
        return f"Observation of {worker.name if worker else '?'}"
    if isinstance(record, Escalation):
        owner = session.get(Person, record.owner_id)
        return f"Escalation to {owner.name if owner else '?'} raised {record.raised_on:%-d %b %Y}"
    return f"{record.name} ({record.staff_id})"
