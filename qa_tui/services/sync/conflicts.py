"""Conflict decisions (shared database): the conflicts an import kept aside, each with both
versions side by side, and resolving one by keeping the shared version, taking the incoming one,
or saving a hand merge."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.models import SYNC_RESOLUTIONS, SyncConflict, SyncImport
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, ValidationError
from qa_tui.services.sync.tables import TableSpec, decode_fields, load_rows, plain_fields, table_specs

REASONS = {
    "edited-elsewhere": "changed in the shared database since the laptop's copy was taken",
    "no-base": "made offline with an ID the shared database already holds, with different content",
    "open-conflict": "an earlier conflict on this record is still waiting for a decision",
    "missing-parent": "refers to a record the shared database does not have",
    "duplicate-key": "repeats a code or reference that another record already uses",
    "in-use": "deleted on the laptop, but other records here still refer to it",
    "held": "history of a record held in a conflict: applied only if that record's laptop version is taken",
}


@dataclass(frozen=True)
class ConflictView:
    """One conflict with both versions side by side, as a screen shows it."""

    id: uuid.UUID
    table: str
    record_id: uuid.UUID
    reason: str
    explanation: str
    bundle_id: uuid.UUID
    device: str
    exported_by: str
    imported_at: datetime
    base_version: int | None
    live_version_at_import: int | None
    live_version: int | None  # now; None when the record is not in this database
    incoming: dict[str, Any]
    live: dict[str, Any] | None
    differing: tuple[str, ...]
    status: str
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    deletion: bool = False  # the laptop deleted the record: taking the incoming version deletes it
    held: int = 0  # history rows held with this conflict, applied only with the laptop's version


def list_conflicts(session: Session, *, status: str | None = "open") -> list[ConflictView]:
    """Conflicts, oldest import first, each with the incoming and the current live version.
    History rows held with another conflict are decided with it, so they are not listed."""
    stmt = (select(SyncConflict, SyncImport.device, SyncImport.exported_by, SyncImport.imported_at)
            .join(SyncImport, SyncImport.bundle_id == SyncConflict.bundle_id)
            .where(SyncConflict.held_by.is_(None))
            .order_by(SyncImport.imported_at, SyncConflict.table_name, SyncConflict.record_id))
    if status is not None:
        stmt = stmt.where(SyncConflict.status == status)
    found = session.execute(stmt).all()
    specs = table_specs()
    live: dict[str, dict[uuid.UUID, RowMapping]] = {}
    for name in {c.table_name for c, *_ in found}:
        live[name] = load_rows(session, specs[name], (c.record_id for c, *_ in found if c.table_name == name))
    held = _held_counts(session, [c.id for c, *_ in found])
    return [_view(specs[c.table_name], c, device, exported_by, imported_at, live[c.table_name].get(c.record_id),
                  held.get(c.id, 0)) for c, device, exported_by, imported_at in found]


def _held_counts(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    return dict(session.execute(select(SyncConflict.held_by, func.count()).where(
        SyncConflict.held_by.in_(ids), SyncConflict.status == "open").group_by(SyncConflict.held_by)).all())


def get_conflict(session: Session, conflict_id: uuid.UUID) -> ConflictView:
    row = session.execute(
        select(SyncConflict, SyncImport.device, SyncImport.exported_by, SyncImport.imported_at)
        .join(SyncImport, SyncImport.bundle_id == SyncConflict.bundle_id)
        .where(SyncConflict.id == conflict_id)).first()
    if row is None:
        raise NotFound(f"No sync conflict with ID {conflict_id}.")
    conflict, device, exported_by, imported_at = row
    spec = table_specs()[conflict.table_name]
    return _view(spec, conflict, device, exported_by, imported_at,
                 load_rows(session, spec, [conflict.record_id]).get(conflict.record_id),
                 _held_counts(session, [conflict.id]).get(conflict.id, 0))


def _view(spec: TableSpec, c: SyncConflict, device: str, exported_by: str, imported_at: datetime,
          live: RowMapping | None, held: int) -> ConflictView:
    live_fields = plain_fields(spec, live) if live is not None else None
    differing = () if c.deletion else tuple(
        k for k in spec.content if live_fields is None or live_fields[k] != c.incoming.get(k))
    return ConflictView(
        id=c.id, table=c.table_name, record_id=c.record_id, reason=c.reason, explanation=REASONS.get(c.reason, c.reason),
        bundle_id=c.bundle_id, device=device, exported_by=exported_by, imported_at=imported_at,
        base_version=c.base_version, live_version_at_import=c.live_version,
        live_version=live["version"] if live is not None else None, incoming=dict(c.incoming),
        live=live_fields, differing=differing, status=c.status, resolution=c.resolution,
        resolved_by=c.resolved_by, resolved_at=c.resolved_at, deletion=bool(c.deletion), held=held,
    )


def resolve_conflict(session: Session, conflict_id: uuid.UUID, choice: str,
                     merged_fields: dict[str, Any] | None = None, *, by: str,
                     expected_live_version: int | None = None, now: datetime | None = None) -> ConflictView:
    """Decide a conflict: keep the shared version, take the incoming one (for a deletion: delete
    the record), or save a hand merge (`merged_fields` in the JSON form `ConflictView` shows, over
    the live version). History rows held with it are applied with the laptop's version and
    dropped with the shared one. Give the live version the screen showed as
    `expected_live_version` to refuse if it has changed since."""
    if choice not in SYNC_RESOLUTIONS:
        raise ValidationError("choice", f"expected one of {', '.join(SYNC_RESOLUTIONS)}, got {choice!r}")
    conflict = session.get(SyncConflict, conflict_id, with_for_update=True, populate_existing=True)
    if conflict is None:
        raise NotFound(f"No sync conflict with ID {conflict_id}.")
    if conflict.status != "open":
        raise NotAllowed(f"Conflict {conflict_id} was already resolved ({conflict.resolution}) by "
                         f"{conflict.resolved_by} at {conflict.resolved_at:%Y-%m-%d %H:%M}.")
    if conflict.held_by is not None:
        raise NotAllowed(f"This is history held with conflict {conflict.held_by}; it is decided with that one.")
    spec = table_specs()[conflict.table_name]
    live = session.get(spec.model, conflict.record_id, populate_existing=True)
    if expected_live_version is not None and (live.version if live is not None else None) != expected_live_version:
        raise ChangedElsewhere("The shared copy of this record")
    before = {k: trail.plain(getattr(live, k)) for k in spec.content} if live is not None else None
    author = session.scalar(select(SyncImport.exported_by).where(SyncImport.bundle_id == conflict.bundle_id))
    chosen: dict[str, Any] | None = None
    if conflict.deletion:
        if choice == "merged":
            raise ValidationError("choice", "the laptop deleted this record: keep the shared version or take the deletion")
        if choice == "incoming" and live is not None:
            with _as(session, author):
                _write(session, spec, choice, lambda: session.delete(live))
    elif choice != "shared":
        if choice == "incoming":
            chosen = dict(conflict.incoming)
        else:
            if not merged_fields:
                raise ValidationError("merged_fields", "a hand merge needs the field values to keep")
            unknown = sorted(set(merged_fields) - set(spec.content))
            if unknown:
                raise ValidationError("merged_fields", f"{', '.join(unknown)}: not a field of {spec.name}")
            chosen = {**(before if before is not None else conflict.incoming), **merged_fields}
        with _as(session, author if choice == "incoming" else None):
            _store(session, spec, conflict.record_id, live, chosen, choice, f"conflict {conflict_id}")
    when = now or utcnow()
    held = _decide_held(session, conflict, "shared" if choice == "shared" or conflict.deletion else "incoming",
                        by=by, at=when, author=author)
    conflict.status, conflict.resolution, conflict.resolved_by, conflict.resolved_at = "resolved", choice, by, when
    what = "the deletion" if conflict.deletion and choice == "incoming" else f"the {choice} version"
    trail.record_event(session, "sync-resolve", conflict.table_name, conflict.record_id, old=before, new=chosen,
                       detail=f"conflict {conflict_id} ({conflict.reason}) from bundle {conflict.bundle_id}: "
                              f"kept {what}" + (f"; {held}" if held else ""))
    session.flush()
    return get_conflict(session, conflict_id)


@contextmanager
def _as(session: Session, author: str | None) -> Iterator[None]:
    """Writes inside are by `author` (the laptop's), as an import would have written them."""
    if not author:
        yield
        return
    previous = session.info.get(trail.ACTOR_KEY)
    session.info[trail.ACTOR_KEY] = author
    try:
        yield
    finally:
        session.info[trail.ACTOR_KEY] = previous


def _write(session: Session, spec: TableSpec, choice: str, change: Callable[[], None]) -> None:
    try:
        with session.begin_nested():
            change()
            session.flush()
    except StaleDataError:
        raise ChangedElsewhere("The shared copy of this record") from None
    except IntegrityError as exc:
        problem = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise NotAllowed(f"The {choice} version of this {spec.name} record cannot be saved here ({problem}). "
                         f"Keep the shared version, or merge by hand.") from None


def _store(session: Session, spec: TableSpec, record_id: uuid.UUID, live: Any, fields: dict[str, Any],
           choice: str, source: str) -> None:
    values = decode_fields(spec, fields, source=source, where=spec.name)

    def change() -> None:
        if live is None:
            session.add(spec.model(id=record_id, **values))
        else:
            for key, value in values.items():
                if getattr(live, key) != value:
                    setattr(live, key, value)

    _write(session, spec, choice, change)


def _decide_held(session: Session, conflict: SyncConflict, choice: str, *, by: str, at: datetime,
                 author: str | None) -> str:
    """Apply (with the laptop's version) or drop (with the shared one) the history held with a
    conflict; says what became of it."""
    held = list(session.scalars(select(SyncConflict).where(
        SyncConflict.held_by == conflict.id, SyncConflict.status == "open").order_by(SyncConflict.record_id)))
    for row in held:
        if choice == "incoming":
            spec = table_specs()[row.table_name]
            live = session.get(spec.model, row.record_id, populate_existing=True)
            with _as(session, author):
                _store(session, spec, row.record_id, live, dict(row.incoming), "incoming", f"conflict {row.id}")
        row.status, row.resolution, row.resolved_by, row.resolved_at = "resolved", choice, by, at
    if not held:
        return ""
    return f"{len(held)} history row(s) held with it {'applied' if choice == 'incoming' else 'dropped'}"
