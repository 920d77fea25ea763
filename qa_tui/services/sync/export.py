"""Export (laptop): everything created or changed here since the last acknowledged sync, as one
bundle of the laptop's changes."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import SyncTombstone
from qa_tui.services.people.owner import laptop_owner
from qa_tui.services.sync.bundle import KIND_CHANGES, Bundle, BundleRecord, content_hash
from qa_tui.services.sync.state import changed_since_sync, device_id, pending_changes
from qa_tui.services.sync.tables import Progress, parent_first, record_from_row, table_specs


def export_changes(session: Session, *, exported_by: str, device_name: str = "", destination: str = "",
                   now: datetime | None = None, progress: Progress | None = None) -> Bundle:
    """Everything created, changed or deleted here since the last acknowledged sync, as one
    bundle (a deletion as a tombstone). Marks nothing: the same changes are exported again until a receipt is acknowledged."""
    now = now or utcnow()
    device = device_id(session)
    total = sum(pending_changes(session).values())
    records: list[BundleRecord] = []
    for spec in table_specs().values():
        t = spec.table
        rows = session.execute(select(t).where(changed_since_sync(t)).order_by(t.c.id)).mappings().all()
        rows = parent_first(spec, list(rows), lambda r: r["id"], lambda r, c: r[c])
        records.extend(record_from_row(spec, row, row["synced_version"]) for row in rows)
        if progress and rows:
            progress(len(records), total)
    for stone in session.scalars(select(SyncTombstone).order_by(SyncTombstone.table_name, SyncTombstone.record_id)):
        records.append(BundleRecord(table=stone.table_name, id=str(stone.record_id), version=stone.version,
                                    base_version=stone.base_version, created_at=stone.created_at.isoformat(),
                                    hash=content_hash({}), fields={}, deleted=True))
    owner = laptop_owner(session)  # the laptop's bound person: the author of everything in the bundle
    bundle = Bundle(bundle_id=str(uuid.uuid4()), kind=KIND_CHANGES, schema=HEAD_REVISION, device=device,
                    device_name=device_name, exported_by=exported_by, created_at=now.isoformat(),
                    records=tuple(records), owner_staff_id=owner.staff_id if owner else "")
    if records:
        by_table: dict[str, int] = defaultdict(int)
        for record in records:
            by_table[record.table] += 1
        trail.record_event(session, "sync-export", "sync_state", bundle.bundle_id, new=dict(by_table),
                           detail=f"exported {len(records)} changed records" + (f" to {destination}" if destination else ""))
    return bundle
