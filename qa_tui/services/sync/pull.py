"""Pull (laptop): the reference data a manager needs offline, read from the shared database or
from a reference bundle, stored here with its IDs and versions, marked synced."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from qa_tui.config import mask_url
from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.dates import today_local
from qa_tui.db.models import SyncConflict, SyncTombstone
from qa_tui.services.people.owner import bind_to_puller
from qa_tui.services.people.permissions import ROLES_PULLED_KEY, holds_role_rows
from qa_tui.services.people.role_permissions import copy_pulled_role_permissions, shared_role_rows
from qa_tui.services.sync.bundle import KIND_REFERENCE, Bundle, BundleRecord, BundleRefused, content_hash
from qa_tui.services.sync.scope import children_of, pull_scope
from qa_tui.services.sync.state import set_state
from qa_tui.services.sync.tables import (
    Incoming,
    Progress,
    decode_records,
    load_rows,
    parent_first,
    plain_fields,
    record_from_row,
    referred_to,
    table_specs,
)
from qa_tui.services.sync.writes import BulkWriter, reference_problems


@dataclass(frozen=True)
class PullSummary:
    source: str
    added: int
    updated: int
    unchanged: int
    kept_local: tuple[tuple[str, str], ...]  # (table, id) edited here and not yet synced: left alone
    skipped: tuple[tuple[str, str, str], ...]  # (table, id, reason) that could not be stored here
    removed: int = 0  # records deleted in the shared database, removed here too


def reference_bundle(session: Session, *, team_codes: Sequence[str] = (), also: dict[str, set[uuid.UUID]] | None = None,
                     now: datetime | None = None, today: date | None = None,
                     progress: Progress | None = None) -> Bundle:
    """What a manager needs offline, read from the shared database (see `pull_scope`: the teams,
    the people they manage, and everything the laptop's screens compute from for them, for
    `team_codes` only when given), the records `also` names, and every record those refer to."""
    now = now or utcnow()
    specs = table_specs()
    wanted = pull_scope(session, team_codes=team_codes, today=today or today_local())
    for name, ids in (also or {}).items():
        wanted[name] |= ids
    rows: dict[str, dict[uuid.UUID, RowMapping]] = defaultdict(dict)
    pending = wanted
    while pending:  # follow foreign keys until every referred-to record is in
        following: dict[str, set[uuid.UUID]] = defaultdict(set)
        for name, ids in pending.items():
            spec = specs[name]
            loaded = load_rows(session, spec, ids - rows[name].keys())
            rows[name].update(loaded)
            for child, child_ids in children_of(session, name, loaded.keys()).items():
                following[child] |= child_ids
            for row in loaded.values():
                for column, parent in spec.parents:
                    ref = row[column]
                    if ref is not None and ref not in rows[parent]:
                        following[parent].add(ref)
        pending = {name: ids - rows[name].keys() for name, ids in following.items() if ids - rows[name].keys()}
    records: list[BundleRecord] = []
    total = sum(len(r) for r in rows.values())
    for name, spec in specs.items():
        ordered = parent_first(spec, sorted(rows[name].values(), key=lambda r: r["id"]),
                               lambda r: r["id"], lambda r, c: r[c])
        records.extend(record_from_row(spec, row, None) for row in ordered)
        if progress and ordered:
            progress(len(records), total)
    return Bundle(bundle_id=str(uuid.uuid4()), kind=KIND_REFERENCE, schema=HEAD_REVISION, device="shared",
                  device_name="", exported_by=trail.actor_of(session), created_at=now.isoformat(),
                  records=tuple(records),
                  role_permissions=shared_role_rows(session) if holds_role_rows(session) else None)


def export_reference(session: Session, *, team_codes: Sequence[str] = (), destination: str = "",
                     now: datetime | None = None, today: date | None = None) -> Bundle:
    """A reference bundle for a laptop that cannot reach the shared database, with its export
    recorded in the audit trail."""
    bundle = reference_bundle(session, team_codes=team_codes, now=now, today=today)
    trail.record_event(session, "sync-export", "sync_state", bundle.bundle_id, new={"records": len(bundle.records)},
                       detail=f"exported {len(bundle.records)} reference records"
                              + (f" for teams {', '.join(team_codes)}" if team_codes else "")
                              + (f" to {destination}" if destination else ""))
    return bundle


def synced_ids(session: Session) -> dict[str, set[uuid.UUID]]:
    """The records here that came from or went to the shared database, so a pull can refresh them."""
    found: dict[str, set[uuid.UUID]] = {}
    for spec in table_specs().values():
        ids = set(session.scalars(select(spec.table.c.id).where(spec.table.c.synced_version.is_not(None))))
        if ids:
            found[spec.name] = ids
    return found


def pull_from_database(local: Session, shared: Session, *, source: str, team_codes: Sequence[str] = (),
                       now: datetime | None = None, today: date | None = None,
                       progress: Progress | None = None) -> PullSummary:
    """Bring the reference data from the shared database, and refresh what this laptop already
    holds: a record the shared database no longer has was deleted there, and goes here too."""
    held = synced_ids(local)
    bundle = reference_bundle(shared, team_codes=team_codes, also=held, now=now, today=today)
    present = {(record.table, record.id) for record in bundle.records}
    # a record the office has not decided on yet (in an open conflict) is not gone, only waiting
    present |= {(name, str(rid)) for name, rid in shared.execute(
        select(SyncConflict.table_name, SyncConflict.record_id).where(SyncConflict.status == "open"))}
    gone = {name: {rid for rid in ids if (name, str(rid)) not in present} for name, ids in held.items()}
    return apply_reference(local, bundle, source=source, now=now, progress=progress, gone=gone)


def apply_reference(session: Session, bundle: Bundle, *, source: str, now: datetime | None = None,
                    progress: Progress | None = None, gone: dict[str, set[uuid.UUID]] | None = None) -> PullSummary:
    """Store pulled records here with their IDs and versions, marked synced. A record edited or
    deleted here and not yet synced is left alone (its change goes up with the next export)."""
    if bundle.kind != KIND_REFERENCE:
        raise BundleRefused(bundle.source, "this bundle holds a laptop's changes, for `sync import` on the "
                                           "shared database, not reference data to pull")
    now = now or utcnow()
    source = mask_url(source)  # a password in the URL is never stored (sync state, trail)
    grouped = decode_records(bundle)
    writer = BulkWriter(session, now, f"pulled from {source}", len(bundle.records), progress)
    added = updated = unchanged = 0
    kept: list[tuple[str, str]] = []
    skipped: list[tuple[str, str, str]] = []
    stones = select(SyncTombstone.table_name, SyncTombstone.record_id)
    deleted_here = {(name, rid) for name, rid in session.execute(stones)}
    for spec, items in grouped:
        local = load_rows(session, spec, (i.id for i in items))
        candidates: list[tuple[Incoming, RowMapping | None]] = []
        for inc in items:
            row = local.get(inc.id)
            if (spec.name, inc.id) in deleted_here:  # its deletion goes up with the next export
                kept.append((spec.name, str(inc.id)))
                continue
            if row is None:
                candidates.append((inc, None))
                continue
            same = content_hash(plain_fields(spec, row)) == inc.record.hash
            changed_here = row["synced_version"] is None or row["version"] != row["synced_version"]
            if same and not changed_here and row["version"] == inc.record.version:
                unchanged += 1
            elif changed_here and not same:
                kept.append((spec.name, str(inc.id)))
            else:
                candidates.append((inc, row))
        problems = reference_problems(session, spec, candidates, writer.present)
        skipped.extend((spec.name, str(inc.id), problems[inc.id]) for inc, _ in candidates if inc.id in problems)
        inserts = [inc for inc, row in candidates if row is None and inc.id not in problems]
        updates = [(inc, row, inc.record.version) for inc, row in candidates if row is not None and inc.id not in problems]
        writer.insert(spec, inserts, synced=True)
        writer.update(spec, updates, synced=True)
        writer.settle(len(items) - len(inserts) - len(updates))
        added += len(inserts)
        updated += len(updates)
    removed = _remove_gone(session, writer, gone or {})
    set_state(session, "pulled_from", source)
    set_state(session, "pulled_at", now.isoformat())
    bind_to_puller(session, bundle.exported_by)  # the laptop is the puller's, whatever any setting says
    if bundle.role_permissions is not None and session.get_bind().dialect.name == "sqlite":  # the council's rows
        copy_pulled_role_permissions(session, bundle.role_permissions)
        set_state(session, ROLES_PULLED_KEY, source)
    summary = PullSummary(source, added, updated, unchanged, tuple(kept), tuple(skipped), removed)
    trail.record_event(session, "sync-pull", "sync_state", bundle.bundle_id,
                       new={"added": added, "updated": updated, "unchanged": unchanged,
                            "kept_local": len(kept), "skipped": len(skipped), "removed": removed},
                       detail=f"pulled reference data from {source}")
    return summary


def _remove_gone(session: Session, writer: BulkWriter, gone: dict[str, set[uuid.UUID]]) -> int:
    """Delete here, children's tables first, the records the shared database no longer has,
    unless changed here since (the change goes up with the next export) or still referred to by
    a record here. No tombstone: the shared database has already deleted them."""
    removed = 0
    for spec in reversed(list(table_specs().values())):
        ids = gone.get(spec.name)
        if not ids:
            continue
        rows = [row for row in load_rows(session, spec, ids).values() if row["synced_version"] == row["version"]]
        used = referred_to(session, spec, [row["id"] for row in rows])
        doomed = [row for row in rows if row["id"] not in used]
        writer.total += len(doomed)
        writer.delete(spec, doomed)
        removed += len(doomed)
    return removed
