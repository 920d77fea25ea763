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
    RefusedNote,
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
    referred_to,
)
from qa_tui.db.acting import Acting
from qa_tui.services.sync.recheck import bound_person, refusal
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
    # Each record is by the laptop's author (its bound person); the trail's actor is the importer,
    # and each event's detail names both.
    who = bound_person(session, bundle.owner_staff_id)
    author = who.label if who is not None and who.person_id is not None else ""
    run = _ImportRun(session, bundle, bundle_uuid, who, author, BulkWriter(
        session, now, f"by {author or bundle.exported_by} on device {bundle.device} (sync bundle {bundle.bundle_id}), imported by "
                      f"{trail.actor_of(session)}", len(bundle.records), progress, actor=bundle.exported_by))
    try:
        for spec, items in grouped:
            run.import_table(spec, items)
        run.import_deletions()
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
             "deleted": receipt.deleted, "conflicts": [[c.table, c.id] for c in receipt.conflicts],
             "refused": [[r.table, r.id, r.reason] for r in receipt.refused], "author": bundle.exported_by},
        detail=f"imported bundle {bundle.bundle_id} from device {bundle.device} "
               f"({bundle.device_name or 'unnamed'}), exported by {bundle.exported_by} at {bundle.created_at}")
    return receipt


def _stored_receipt(session: Session, bundle_id: uuid.UUID) -> Receipt | None:
    doc = session.scalar(select(SyncImport.receipt).where(SyncImport.bundle_id == bundle_id))
    if doc is None:
        return None
    return Receipt.from_document(doc, source="the import log", already_imported=True)


# History rows: (table) -> (column naming the record, that record's table). A history row whose
# record is held as a conflict is held with it and applied only with the decision.
HISTORY: dict[str, tuple[str, str]] = {"action_change": ("action_id", "action")}
Held = tuple[Incoming, RowMapping | None, str, uuid.UUID | None]  # (record, live row, reason, held by)


class _ImportRun:
    """The decisions for one bundle, table by table, and the receipt they add up to."""

    def __init__(self, session: Session, bundle: Bundle, bundle_id: uuid.UUID, who: Acting | None, author: str,
                 writer: BulkWriter) -> None:
        self.session, self.bundle, self.bundle_id, self.writer = session, bundle, bundle_id, writer
        self.who = who  # the laptop's person: every record is held to their permissions
        self.author = author  # that person as the shared database names them ("" when it names no one)
        self.records: list[ReceiptRecord] = []
        self.conflicts: list[ConflictNote] = []
        self.refused: list[RefusedNote] = []
        self.refused_ids: set[tuple[str, uuid.UUID]] = set()
        self.deletions: list[tuple[TableSpec, list[Incoming]]] = []
        self.counts = {"added": 0, "updated": 0, "unchanged": 0, "deleted": 0}
        # (table, record) -> incoming hash -> (conflict ID, reason), for the conflicts still open
        self.open_conflicts: dict[tuple[str, uuid.UUID], dict[str, tuple[uuid.UUID, str]]] = defaultdict(dict)
        for cid, table, rid, digest, reason in session.execute(
                select(SyncConflict.id, SyncConflict.table_name, SyncConflict.record_id, SyncConflict.incoming_hash,
                       SyncConflict.reason).where(SyncConflict.status == "open")):
            self.open_conflicts[(table, rid)][digest] = (cid, reason)

    def import_table(self, spec: TableSpec, items: list[Incoming]) -> None:
        deletions = [inc for inc in items if inc.record.deleted]
        if deletions:  # applied after every table's additions and edits, children first
            self.deletions.append((spec, deletions))
        items = [inc for inc in items if not inc.record.deleted]
        live_rows = load_rows(self.session, spec, (i.id for i in items))
        live_fields: dict[uuid.UUID, dict[str, Any]] = {}
        candidates: list[tuple[Incoming, RowMapping | None]] = []
        conflicts: list[Held] = []
        for inc in items:
            live = live_rows.get(inc.id)
            if live is not None:
                live_fields[inc.id] = plain_fields(spec, live)
                if content_hash(live_fields[inc.id]) == inc.record.hash:
                    self._note(inc, "unchanged", live["version"])
                    continue
            why = refusal(self.session, self.who, spec.name, inc.record.fields, live_fields.get(inc.id), inc.id)
            if why:
                self._refuse(inc, printable(why), stored=live is not None)
                continue
            if self._sent_again(inc, live):
                continue
            waiting = self.open_conflicts.get((spec.name, inc.id), {})
            if refused := self._refused_parent(spec, inc):
                self._refuse(inc, refused)
            elif live is None:
                candidates.append((inc, None))
            elif inc.record.base_version is None:
                conflicts.append((inc, live, "no-base", None))
            elif inc.record.base_version != live["version"]:
                conflicts.append((inc, live, "edited-elsewhere", None))
            elif waiting:
                conflicts.append((inc, live, "open-conflict", None))
            else:
                candidates.append((inc, live))
        candidates = self._hold_history(spec, candidates, conflicts)
        candidates = self._draw_rule(spec, candidates)
        problems = reference_problems(self.session, spec, candidates, self.writer.present)
        inserts: list[Incoming] = []
        updates: list[tuple[Incoming, RowMapping, int]] = []
        for inc, live in candidates:
            if inc.id in problems:
                conflicts.append((inc, live, problems[inc.id], None))
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

    def import_deletions(self) -> None:
        """Tombstones, children's tables first, under the same rules as edits: a deletion from the
        current version deletes the record; one the shared database changed since, or a record
        others still refer to, is a conflict; a record already gone is simply gone."""
        for spec, items in reversed(self.deletions):
            live_rows = load_rows(self.session, spec, (i.id for i in items))
            doomed: list[tuple[Incoming, RowMapping]] = []
            conflicts: list[Held] = []
            for inc in items:
                live = live_rows.get(inc.id)
                if self._sent_again(inc, live):
                    continue
                if live is None:
                    self._note(inc, "deleted", None)
                elif inc.record.base_version != live["version"]:
                    conflicts.append((inc, live, "no-base" if inc.record.base_version is None
                                      else "edited-elsewhere", None))
                elif self.open_conflicts.get((spec.name, inc.id)):
                    conflicts.append((inc, live, "open-conflict", None))
                else:
                    doomed.append((inc, live))
            used = referred_to(self.session, spec, [inc.id for inc, _ in doomed])
            conflicts += [(inc, live, "in-use", None) for inc, live in doomed if inc.id in used]
            doomed = [(inc, live) for inc, live in doomed if inc.id not in used]
            self.writer.delete(spec, [live for _, live in doomed])
            for inc, _ in doomed:
                self._note(inc, "deleted", None)
            self._keep_conflicts(spec, conflicts, deletion=True)
            self.writer.settle(len(items) - len(doomed))

    def _sent_again(self, inc: Incoming, live: RowMapping | None) -> bool:
        """The same edit sent again while its conflict waits: point at the conflict already kept."""
        waiting = self.open_conflicts.get((inc.spec.name, inc.id), {})
        if inc.record.hash not in waiting:
            return False
        cid, reason = waiting[inc.record.hash]
        self._note(inc, "conflict", live["version"] if live is not None else None)
        self.conflicts.append(ConflictNote(inc.spec.name, str(inc.id), str(cid), reason))
        return True

    def _hold_history(self, spec: TableSpec, candidates: list[tuple[Incoming, RowMapping | None]],
                      conflicts: list[Held]) -> list[tuple[Incoming, RowMapping | None]]:
        """A history row whose record waits in a conflict is held with that conflict."""
        if spec.name not in HISTORY:
            return candidates
        column, parent = HISTORY[spec.name]
        kept = []
        for inc, live in candidates:
            waiting = self.open_conflicts.get((parent, inc.values[column]), {})
            if waiting:
                cid, _ = list(waiting.values())[-1]  # the newest: this bundle's, if it made one
                conflicts.append((inc, live, "held", cid))
            else:
                kept.append((inc, live))
        return kept

    def _refused_parent(self, spec: TableSpec, inc: Incoming) -> str | None:
        for column, parent in spec.parents:
            if (parent, inc.values[column]) in self.refused_ids:
                return f"refers to a {parent.replace('_', ' ')} that was refused"
        return None

    def _draw_rule(self, spec: TableSpec, candidates: list[tuple[Incoming, RowMapping | None]]
                   ) -> list[tuple[Incoming, RowMapping | None]]:
        """At most one draw per team and month: a second one from a laptop is refused, not written."""
        if spec.name != "case_draw":
            return candidates
        t = spec.table
        new = [inc for inc, live in candidates if live is None]
        held: dict[tuple[Any, Any], uuid.UUID] = {}
        teams = sorted({inc.values["team_id"] for inc in new})
        for team_id, month, draw_id in self.session.execute(
                select(t.c.team_id, t.c.month, t.c.id).where(t.c.team_id.in_(teams))):
            held.setdefault((team_id, month), draw_id)
        kept = []
        for inc, live in candidates:
            key = (inc.values["team_id"], inc.values["month"])
            if live is None and held.get(key, inc.id) != inc.id:
                self._refuse(inc, f"team and month {inc.values['month']} already have a draw; "
                                  f"re-draw a worker's pick instead of drawing again")
                continue
            held.setdefault(key, inc.id)
            kept.append((inc, live))
        return kept

    def _refuse(self, inc: Incoming, reason: str, *, stored: bool = False) -> None:
        """Refuse a record; one this database does not hold (`stored` False) also refuses what refers to it."""
        if not stored:
            self.refused_ids.add((inc.spec.name, inc.id))
        self.refused.append(RefusedNote(inc.spec.name, str(inc.id), reason))
        self._note(inc, "refused", None)

    def _keep_conflicts(self, spec: TableSpec, conflicts: list[Held], *, deletion: bool = False) -> None:
        rows = []
        for inc, live, reason, held_by in conflicts:
            cid = uuid.uuid4()
            rows.append({"id": cid, "table_name": spec.name, "record_id": inc.id, "reason": reason,
                         "incoming": inc.record.fields, "incoming_hash": inc.record.hash,
                         "base_version": inc.record.base_version,
                         "live_version": live["version"] if live is not None else None,
                         "bundle_id": self.bundle_id, "status": "open", "resolution": None,
                         "resolved_by": None, "resolved_at": None, "deletion": deletion, "held_by": held_by})
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
                       imported_by=trail.actor_of(self.session), added=self.counts["added"],
                       updated=self.counts["updated"], unchanged=self.counts["unchanged"],
                       conflicts=tuple(self.conflicts), records=tuple(self.records),
                       deleted=self.counts["deleted"], refused=tuple(self.refused),
                       author=self.author)
