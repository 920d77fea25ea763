"""Receipts (laptop): acknowledge the receipt of an imported bundle, clearing the "changed since
sync" marks of the records it accounts for."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, bindparam, case, delete, or_, update
from sqlalchemy.orm import Session

from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.models import SyncTombstone
from qa_tui.errors import NotAllowed
from qa_tui.services.sync.bundle import BundleRefused, Receipt, ReceiptRecord
from qa_tui.services.sync.state import device_id, get_state, set_state
from qa_tui.services.sync.tables import chunks, table_specs


@dataclass(frozen=True)
class AckSummary:
    bundle_id: str
    marked: int  # records whose "changed since sync" mark was cleared or moved on
    conflicts: int
    already_acknowledged: bool


def acknowledge(session: Session, receipt: Receipt, *, now: datetime | None = None) -> AckSummary:
    """Clear the "changed since sync" marks of the records a receipt accounts for, moving each
    record's base to the version the shared database holds. A record edited again since the
    export stays marked, now based on that version. Conflicts are handed over to the shared
    database: the next pull brings whatever the manager decides there."""
    now = now or utcnow()
    device = device_id(session)
    if receipt.device != device:
        raise NotAllowed(f"This receipt is for a bundle exported by device {receipt.device}; this database is "
                         f"device {device}. Acknowledge it on the laptop that exported the bundle.")
    acked_key = f"acked:{receipt.bundle_id}"
    if get_state(session, acked_key) is not None:
        return AckSummary(receipt.bundle_id, 0, len(receipt.conflicts), already_acknowledged=True)
    specs = table_specs()
    by_table: dict[str, list[ReceiptRecord]] = defaultdict(list)
    for record in receipt.records:
        if record.table not in specs:
            raise BundleRefused("receipt", f"names a table this schema does not have ({record.table})")
        by_table[record.table].append(record)
    marked = 0
    conn = session.connection()
    for name, records in by_table.items():
        t = specs[name].table
        shared = bindparam("b_shared", type_=Integer)
        stmt = (update(t)
                .where(t.c.id == bindparam("b_id", type_=t.c.id.type),
                       or_(t.c.synced_version.is_(None), t.c.synced_version <= shared))
                .values(synced_version=shared, updated_at=t.c.updated_at,
                        version=case((t.c.version == bindparam("b_local", type_=Integer), shared),
                                     (t.c.version > shared, t.c.version), else_=shared + 1)))
        for chunk in chunks(records):
            result = conn.execute(stmt, [
                {"b_id": uuid.UUID(r.id), "b_local": r.local_version,
                 # a record held only in a conflict row is handed over as the version the laptop sent
                 "b_shared": r.shared_version if r.shared_version is not None else r.local_version}
                for r in chunk])
            marked += max(result.rowcount, 0)
    marked += _drop_tombstones(session, receipt)
    set_state(session, acked_key, now.isoformat())
    set_state(session, "last_ack_bundle", receipt.bundle_id)
    set_state(session, "last_ack_at", now.isoformat())
    trail.record_event(session, "sync-ack", "sync_state", receipt.bundle_id,
                       new={"marked": marked, "conflicts": len(receipt.conflicts)},
                       detail=f"acknowledged the receipt for bundle {receipt.bundle_id} "
                              f"(imported by {receipt.imported_by} at {receipt.imported_at})")
    return AckSummary(receipt.bundle_id, marked, len(receipt.conflicts), already_acknowledged=False)


def _drop_tombstones(session: Session, receipt: Receipt) -> int:
    """Deletions the receipt accounts for (done, already gone, or handed over as a conflict) are
    not sent again; a record deleted again after a later pull keeps its newer tombstone."""
    t = SyncTombstone.__table__
    stmt = delete(t).where(t.c.table_name == bindparam("b_table"),
                           t.c.record_id == bindparam("b_id", type_=t.c.record_id.type),
                           t.c.version == bindparam("b_local", type_=Integer))
    dropped = 0
    for chunk in chunks(receipt.records):
        result = session.connection().execute(stmt, [
            {"b_table": r.table, "b_id": uuid.UUID(r.id), "b_local": r.local_version} for r in chunk])
        dropped += max(result.rowcount, 0)
    return dropped
