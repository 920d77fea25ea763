"""The audit trail: every insert, update and delete of a record writes an `AuditEvent` in the
same flush (so it commits or rolls back with the change); deleting a record offline sync shares
also writes its `SyncTombstone`. The actor comes from `session.info`.
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

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from qa_tui.db.base import Base, Record
from qa_tui.db.models import AuditEvent, SyncTombstone
from qa_tui.errors import ValidationError
from qa_tui.text import control_problem

ACTOR_KEY = "actor"
SKIP_COLUMNS = {"created_at", "updated_at", "updated_by", "version", "synced_version"}


def actor_of(session: Session) -> str:
    return str(session.info.get(ACTOR_KEY) or "unknown")


def plain(value: Any) -> Any:
    """A JSON-safe form of a column value."""
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
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


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
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
    session.add_all(events)
    session.add_all(tombstones)


def install(session_class: type[Session] = Session) -> None:
    """Attach the text check and the trail to every session of `session_class` (idempotent)."""
    for listener in (_refuse_unstorable_text, _before_flush):
        if not event.contains(session_class, "before_flush", listener):
            event.listen(session_class, "before_flush", listener)
