"""The audit trail: every insert, update and delete of a record writes an `AuditEvent` in the
same flush (so it commits or rolls back with the change); deleting a record offline sync shares
also writes its `SyncTombstone`. The actor (the login) and the person (staff ID and name) come from
`session.info`. On PostgreSQL the tables in `DATABASE_TRAILED`
are trailed by the database's own triggers instead (so raw SQL is trailed too, with the actor
and time the server gives); on SQLite every event is sealed into a hash chain at commit
(`qa_tui.db.chain`). A login linked to no staff record may change nothing.
Before that, text that must not be stored is refused with a ValidationError naming the table and
column, whatever service wrote it: a control character other than tab and newline (a NUL, which
PostgreSQL refuses; an ESC or BEL, which a terminal would obey when the text is shown), in a text
column or a string inside a JSON one, or more characters than the column holds (SQLite would keep
them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from qa_tui.db.base import Base, Record
from qa_tui.db.acting import acting_of
from qa_tui.db.models import AuditEvent, SyncTombstone
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.text import control_problem, printable

ACTOR_KEY = "actor"
_NAMED_KEY = "actor named in"
SKIP_COLUMNS = {"created_at", "updated_at", "updated_by", "version", "synced_version"}
# Tables whose row changes PostgreSQL's own triggers write to the trail (migrations 0006_identity
# and 0010_identity2): every record people edit. A table added later is trailed here, by the app,
# until a migration gives it the trigger (tests/test_database_trail.py asks for one).
DATABASE_TRAILED = frozenset({
    "action", "action_change", "agency_finding", "audit", "audit_grade", "audit_participant", "audit_template",
    "case_draw", "case_file", "cp_plan", "draw_pick", "draw_pool", "escalation", "feedback", "follow_up",
    "good_practice", "moderation", "observation", "person", "record_seen", "role_permission", "service",
    "supervision", "support_plan", "support_step", "team", "theme", "theme_case", "worker_response",
})


def actor_of(session: Session) -> str:
    return str(session.info.get(ACTOR_KEY) or "unknown")


def event_person(session: Session) -> dict[str, str]:
    """The person columns of an audit event written in `session` (none for nobody)."""
    who = acting_of(session)
    if who is None or who.person_id is None:
        return {}
    # Names are stored as they can be shown: a control character in one is made visible (␛), as
    # the trail refuses to keep one.
    return {"person_staff_id": printable(who.staff_id), "person_name": printable(who.name)}


def name_actor(session: Session) -> None:
    """On PostgreSQL, before the first write of a transaction: tell the database's trail triggers
    who acts. Believed only in a superuser's session (everyone else is their own current_user;
    migration 0006_identity), where the app's login name stands in for the shared superuser."""
    if session.get_bind().dialect.name != "postgresql" or session.info.get(_NAMED_KEY) is session.get_transaction():
        return
    who = acting_of(session)
    session.execute(text("SELECT set_config('qa_tui.actor', :actor, true), "
                         "set_config('qa_tui.person_staff_id', :staff, true), "
                         "set_config('qa_tui.person_name', :name, true)"),
                    {"actor": actor_of(session), "staff": who.staff_id if who else "", "name": who.name if who else ""})
    session.info[_NAMED_KEY] = session.get_transaction()


def note_in_trail(session: Session, detail: str) -> None:
    """On PostgreSQL: the note (`detail`) the database's trail triggers give every row change for
    the rest of this transaction, as the app gives its own events (a laptop bundle's import)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('qa_tui.trail_detail', :detail, true)"), {"detail": detail})


def leave_untrailed(session: Session) -> None:
    """For bulk writes that keep their own summary in the trail (the demo builder, the retention
    purge): PostgreSQL's trail triggers leave this transaction's row changes alone, but only for
    a login that may rewrite the trail anyway (the database's owner), never for the app's role."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('qa_tui.untrailed', 'on', true)"))


def trailed_by_database(session: Session, table_name: str) -> bool:
    return table_name in DATABASE_TRAILED and session.get_bind().dialect.name == "postgresql"


def plain(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if value is None or isinstance(value, (str, int, float)):  # bool is an int
        return value
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [v if isinstance(v, str) else plain(v) for v in value]  # a draw's pool: thousands of references
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def _columns(obj: Record) -> list[str]:
    return [c.key for c in inspect(obj).mapper.column_attrs if c.key not in SKIP_COLUMNS]


def _snapshot(obj: Record) -> dict[str, Any]:
    return {key: plain(getattr(obj, key)) for key in _columns(obj)}


def record_event(session: Session, action: str, table_name: str, record_id: Any = None, *,
                 old: dict[str, Any] | None = None, new: dict[str, Any] | None = None,
                 detail: str = "") -> AuditEvent:
    """Add an audit event for something that is not a plain row change (an import, an export,
    a refused moderation, a sync). It commits with the surrounding transaction."""
    evt = AuditEvent(
        id=uuid.uuid4(), actor=actor_of(session), action=action, table_name=table_name,
        record_id=str(record_id) if record_id is not None else None, old=old, new=new, detail=detail,
        **event_person(session),
    )
    session.add(evt)
    return evt


def _strings(value: Any) -> Iterator[str]:
    """Every string in a column value: the value itself, or those inside a JSON list or dict."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _refuse_unstorable_text(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Base):
            continue
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            value = state.dict.get(attr.key)  # only what is set or loaded: no SQL inside a flush
            if not isinstance(value, (str, list, tuple, dict)):
                continue
            where = f"{obj.__tablename__}.{attr.key}"
            for text in _strings(value):
                problem = control_problem(text)
                if problem:
                    raise ValidationError(where, problem)
            length = getattr(attr.columns[0].type, "length", None)
            if isinstance(value, str) and length is not None and len(value) > length:
                raise ValidationError(where, f"longer than {length} characters ({len(value)})")


def _refuse_nobody(session: Session) -> None:
    """A login linked to no staff record may look but not change anything."""
    who = acting_of(session)
    if who is None or who.person_id is not None:
        return
    if any(isinstance(obj, Record) for obj in (*session.new, *session.dirty, *session.deleted)):
        raise NotAllowed(f"The login {who.login} is not linked to a staff record, so it may look but not change "
                         "anything. Ask an administrator to link it.")


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    _refuse_nobody(session)
    name_actor(session)
    actor = actor_of(session)
    events: list[AuditEvent] = []
    for obj in session.new:
        if isinstance(obj, Record):
            if obj.id is None:
                obj.id = uuid.uuid4()
            obj.updated_by = actor
            events.append(AuditEvent(id=uuid.uuid4(), actor=actor, action="insert",
                                     table_name=obj.__tablename__, record_id=str(obj.id),
                                     old=None, new=_snapshot(obj)))
    for obj in session.dirty:
        if not isinstance(obj, Record) or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for key in _columns(obj):
            history = state.attrs[key].history
            if history.has_changes():
                old[key] = plain(history.deleted[0]) if history.deleted else None
                new[key] = plain(history.added[0]) if history.added else None
        if new:
            obj.updated_by = actor
            events.append(AuditEvent(id=uuid.uuid4(), actor=actor, action="update",
                                     table_name=obj.__tablename__, record_id=str(obj.id),
                                     old=old, new=new))
    tombstones: list[SyncTombstone] = []
    for obj in session.deleted:
        if isinstance(obj, Record):
            events.append(AuditEvent(id=uuid.uuid4(), actor=actor, action="delete",
                                     table_name=obj.__tablename__, record_id=str(obj.id),
                                     old=_snapshot(obj), new=None))
            if obj.synced_version is not None:  # the shared database knows it: the deletion is synced
                tombstones.append(SyncTombstone(table_name=obj.__tablename__, record_id=obj.id, version=obj.version,
                                                base_version=obj.synced_version, created_at=obj.created_at,
                                                deleted_by=actor))
    person = event_person(session)
    for evt in events:
        for key, value in person.items():
            setattr(evt, key, value)
    session.add_all(e for e in events if not trailed_by_database(session, e.table_name))
    session.add_all(tombstones)


def install(session_class: type[Session] = Session) -> None:
    """Attach the text check and the trail to every session of `session_class` (idempotent)."""
    for listener in (_refuse_unstorable_text, _before_flush):
        if not event.contains(session_class, "before_flush", listener):
            event.listen(session_class, "before_flush", listener)
