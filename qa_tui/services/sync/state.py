"""This database's sync state: its device ID, what has changed here since the last acknowledged
sync, and the status line the sync screen and `qa-tui sync status` show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from qa_tui.config import mask_url
from qa_tui.db.models import SyncConflict, SyncState, SyncTombstone
from qa_tui.services.sync.tables import table_specs


@dataclass(frozen=True)
class SyncStatus:
    device_id: str | None
    pending: int
    pending_by_table: dict[str, int]
    last_ack_bundle: str | None
    last_ack_at: str | None
    pulled_from: str | None
    pulled_at: str | None
    open_conflicts: int


def get_state(session: Session, key: str) -> str | None:
    return session.scalar(select(SyncState.value).where(SyncState.key == key))


def set_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def device_id(session: Session) -> str:
    """This database's device ID, made on first use."""
    value = get_state(session, "device_id")
    if value is None:
        value = str(uuid.uuid4())
        set_state(session, "device_id", value)
    return value


def pending_changes(session: Session) -> dict[str, int]:
    """Records created or changed here since the last acknowledged sync, per table, and records
    deleted here since then (as "<table> deleted")."""
    counts = {}
    for spec in table_specs().values():
        t = spec.table
        n = session.scalar(select(func.count()).select_from(t).where(changed_since_sync(t)))
        if n:
            counts[spec.name] = int(n)
    for name, n in session.execute(select(SyncTombstone.table_name, func.count()).group_by(SyncTombstone.table_name)):
        counts[f"{name} deleted"] = int(n)
    return counts


def changed_since_sync(t: Table) -> Any:
    return or_(t.c.synced_version.is_(None), t.c.version != t.c.synced_version)


def sync_status(session: Session) -> SyncStatus:
    pending = pending_changes(session)
    open_conflicts = session.scalar(select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open"))
    return SyncStatus(
        device_id=get_state(session, "device_id"), pending=sum(pending.values()), pending_by_table=pending,
        last_ack_bundle=get_state(session, "last_ack_bundle"), last_ack_at=get_state(session, "last_ack_at"),
        pulled_from=mask_url(get_state(session, "pulled_from") or "") or None, pulled_at=get_state(session, "pulled_at"),
        open_conflicts=int(open_conflicts or 0),
    )
