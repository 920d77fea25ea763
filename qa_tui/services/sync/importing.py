"""Import (shared database): merge a laptop's bundle in one transaction. Per record, an unknown
ID is added, the same content is unchanged, an edit from the current version is applied, and
anything else is kept aside as a conflict; the receipt says which."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.models import SyncConflict, SyncImport
from qa_tui.errors import QAError
from qa_tui.text import printable
from qa_tui.services.sync.bundle import (
    KIND_CHANGES,
    Bundle,
    BundleRefused,
    ConflictNote,
    Receipt,
    ReceiptRecord,
    content_hash,
)
from qa_tui.services.sync.tables import (
    Incoming,
    Progress,
    TableSpec,
    chunks,
    decode_records,
    load_rows,
    plain_fields,
)
from qa_tui.db.acting import Acting
from qa_tui.services.sync.recheck import REFUSED, bound_person, refusal
from qa_tui.services.sync.writes import BulkWriter, RowsMoved, bulk_insert, reference_problems


class ImportCollided(QAError):
    """The import's writes were refused (the same records changed meanwhile, or the database would
    not take a row); nothing from the bundle was written."""


def import_bundle(session: Session, bundle: Bundle, *, now: datetime | None = None,
                  progress: Progress | None = None) -> Receipt:
    """Merge a laptop's bundle in the caller's transaction. A bundle already in the import log
    returns its stored receipt and writes nothing. Otherwise, per record: an unknown ID is added,
    the same content is unchanged, an edit from the current version is applied, and anything else
    is kept aside as a conflict with the live row left alone."""
    if bundle.kind != KIND_CHANGES:
        raise BundleRefused(bundle.source, "this is a reference bundle, for `sync pull --from-bundle` on a "
                                           "laptop, not a laptop's changes")
    bundle_uuid = uuid.UUID(bundle.bundle_id)
    stored = _stored_receipt(session, bundle_uuid)
    if stored is not None:
        return stored
    grouped = decode_records(bundle)
    now = now or utcnow()
    try:
        # First write of the transaction: a concurrent import of the same bundle waits here for
        # ours to finish, then fails on the primary key and returns our receipt.
        with session.begin_nested():
            session.execute(insert(SyncImport.__table__).values(
                bundle_id=bundle_uuid, receipt={}, imported_at=now, device=bundle.device,
                exported_by=bundle.exported_by))
    except IntegrityError:
        stored = _stored_receipt(session, bundle_uuid)
        if stored is None:
            raise
        return stored
    run = _ImportRun(session, bundle, bundle_uuid, bound_person(session, bundle.owner_staff_id), BulkWriter(
        session, now, f"sync bundle {bundle.bundle_id} from {bundle.exported_by}", len(bundle.records), progress))
    try:
        for spec, items in grouped:
            run.import_table(spec, items)
    except RowsMoved:
        raise ImportCollided("Someone changed some of the same records while this bundle was being imported; "
                             "nothing from the bundle was written. Import it again.") from None
    except IntegrityError as exc:
        said = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ImportCollided(f"The database refused part of this bundle ({said}); nothing from the bundle was "
                             f"written. If another import or edit of the same records was running, import it "
                             f"again.") from None
    receipt = run.receipt(now)
    session.execute(update(SyncImport.__table__).where(SyncImport.__table__.c.bundle_id == bundle_uuid)
                    .values(receipt=receipt.to_document()))
    trail.record_event(
        session, "sync", "sync_import", bundle_uuid,
        new={"added": receipt.added, "updated": receipt.updated, "unchanged": receipt.unchanged,
             "conflicts": [[c.table, c.id] for c in receipt.conflicts],
             "refused": [[c.table, c.id, c.reason] for c in receipt.refused]},
        detail=f"imported bundle {bundle.bundle_id} from device {bundle.device} "
               f"({bundle.device_name or 'unnamed'}), exported by {bundle.exported_by} at {bundle.created_at}")
    return receipt


def _stored_receipt(session: Session, bundle_id: uuid.UUID) -> Receipt | None:
    doc = session.scalar(select(SyncImport.receipt).where(SyncImport.bundle_id == bundle_id))
    if doc is None:
        return None
    return Receipt.from_document(doc, source="the import log", already_imported=True)


class _ImportRun:
    """The decisions for one bundle, table by table, and the receipt they add up to."""

    def __init__(self, session: Session, bundle: Bundle, bundle_id: uuid.UUID, who: Acting | None,
                 writer: BulkWriter) -> None:
        self.session, self.bundle, self.bundle_id, self.writer = session, bundle, bundle_id, writer
        self.who = who  # the laptop's person: every record is held to their permissions
        self.records: list[ReceiptRecord] = []
        self.conflicts: list[ConflictNote] = []
        self.refused: list[ConflictNote] = []
        self.counts = {"added": 0, "updated": 0, "unchanged": 0}
        # (table, record) -> incoming hash -> (conflict ID, reason), for the conflicts still open
        self.open_conflicts: dict[tuple[str, uuid.UUID], dict[str, tuple[uuid.UUID, str]]] = defaultdict(dict)
        for cid, table, rid, digest, reason in session.execute(
                select(SyncConflict.id, SyncConflict.table_name, SyncConflict.record_id, SyncConflict.incoming_hash,
                       SyncConflict.reason).where(SyncConflict.status == "open")):
            self.open_conflicts[(table, rid)][digest] = (cid, reason)

    def import_table(self, spec: TableSpec, items: list[Incoming]) -> None:
        live_rows = load_rows(self.session, spec, (i.id for i in items))
        live_fields: dict[uuid.UUID, dict[str, Any]] = {}
        candidates: list[tuple[Incoming, RowMapping | None]] = []
        conflicts: list[tuple[Incoming, RowMapping | None, str]] = []
        for inc in items:
            live = live_rows.get(inc.id)
            if live is not None:
                live_fields[inc.id] = plain_fields(spec, live)
                if content_hash(live_fields[inc.id]) == inc.record.hash:
                    self._note(inc, "unchanged", live["version"])
                    continue
            why = refusal(self.session, self.who, spec.name, inc.record.fields, live_fields.get(inc.id))
            if why:
                self._note(inc, REFUSED, live["version"] if live is not None else None)
                self.refused.append(ConflictNote(spec.name, str(inc.id), "", printable(why)))
                continue
            waiting = self.open_conflicts.get((spec.name, inc.id), {})
            if inc.record.hash in waiting:  # the same edit sent again: point at the conflict already kept
                cid, reason = waiting[inc.record.hash]
                self._note(inc, "conflict", live["version"] if live is not None else None)
                self.conflicts.append(ConflictNote(spec.name, str(inc.id), str(cid), reason))
                continue
            if live is None:
                candidates.append((inc, None))
            elif inc.record.base_version is None:
                conflicts.append((inc, live, "no-base"))
            elif inc.record.base_version != live["version"]:
                conflicts.append((inc, live, "edited-elsewhere"))
            elif waiting:
                conflicts.append((inc, live, "open-conflict"))
            else:
                candidates.append((inc, live))
        problems = reference_problems(self.session, spec, candidates, self.writer.present)
        inserts: list[Incoming] = []
        updates: list[tuple[Incoming, RowMapping, int]] = []
        for inc, live in candidates:
            if inc.id in problems:
                conflicts.append((inc, live, problems[inc.id]))
            elif live is None:
                inserts.append(inc)
            else:
                updates.append((inc, live, live["version"] + 1))
        self.writer.insert(spec, inserts, synced=False)
        for inc in inserts:
            self._note(inc, "added", inc.record.version)
        self.writer.update(spec, updates, synced=False, live_fields=live_fields)
        for inc, _, new_version in updates:
            self._note(inc, "updated", new_version)
        self._keep_conflicts(spec, conflicts)
        self.writer.settle(len(items) - len(inserts) - len(updates))

    def _keep_conflicts(self, spec: TableSpec, conflicts: list[tuple[Incoming, RowMapping | None, str]]) -> None:
        rows = []
        for inc, live, reason in conflicts:
            cid = uuid.uuid4()
            rows.append({"id": cid, "table_name": spec.name, "record_id": inc.id, "reason": reason,
                         "incoming": inc.record.fields, "incoming_hash": inc.record.hash,
                         "base_version": inc.record.base_version,
                         "live_version": live["version"] if live is not None else None,
                         "bundle_id": self.bundle_id, "status": "open", "resolution": None,
                         "resolved_by": None, "resolved_at": None})
            self.open_conflicts[(spec.name, inc.id)][inc.record.hash] = (cid, reason)
            self._note(inc, "conflict", live["version"] if live is not None else None)
            self.conflicts.append(ConflictNote(spec.name, str(inc.id), str(cid), reason))
        for chunk in chunks(rows):
            bulk_insert(self.session, SyncConflict.__table__, list(chunk))

    def _note(self, inc: Incoming, outcome: str, shared_version: int | None) -> None:
        self.records.append(ReceiptRecord(inc.spec.name, str(inc.id), outcome, inc.record.version, shared_version))
        if outcome in self.counts:
            self.counts[outcome] += 1

    def receipt(self, now: datetime) -> Receipt:
        return Receipt(bundle_id=self.bundle.bundle_id, device=self.bundle.device,
                       exported_by=self.bundle.exported_by, imported_at=now.isoformat(),
                       imported_by=self.writer.actor, added=self.counts["added"],
                       updated=self.counts["updated"], unchanged=self.counts["unchanged"],
                       conflicts=tuple(self.conflicts), records=tuple(self.records), refused=tuple(self.refused))
