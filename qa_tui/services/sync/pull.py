"""Pull (laptop): the reference data a manager needs offline, read from the shared database or
from a reference bundle, stored here with its IDs and versions, marked synced."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, or_, select
from sqlalchemy.orm import Session

from qa_tui.config import mask_url
from qa_tui.db import trail
from qa_tui.db.base import utcnow
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import Action, AuditTemplate, Case, FollowUp, Person, Service, Team
from qa_tui.errors import NotFound
from qa_tui.services.people.owner import bind_to_puller
from qa_tui.services.sync.bundle import KIND_REFERENCE, Bundle, BundleRecord, BundleRefused, content_hash
from qa_tui.services.sync.state import set_state
from qa_tui.services.sync.tables import (
    Incoming,
    Progress,
    decode_records,
    load_rows,
    parent_first,
    plain_fields,
    record_from_row,
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


def reference_bundle(session: Session, *, team_codes: Sequence[str] = (), also: dict[str, set[uuid.UUID]] | None = None,
                     now: datetime | None = None, progress: Progress | None = None) -> Bundle:
    """What a manager needs offline, read from the shared database: teams, services, people, open
    cases, open actions, undiscussed follow-ups and audit templates (for `team_codes` only, when
    given), the records `also` names, and every record those refer to."""
    now = now or utcnow()
    specs = table_specs()
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for name, ids in (also or {}).items():
        wanted[name] |= ids
    team, person = Team.__table__, Person.__table__
    if team_codes:
        found = {code: tid for code, tid in session.execute(
            select(team.c.code, team.c.id).where(team.c.code.in_(team_codes)))}
        for code in team_codes:
            if code not in found:
                raise NotFound(f"--team {code}: no team with that code in the shared database")
        team_ids = set(found.values())
        people = set(session.scalars(select(person.c.id).where(person.c.team_id.in_(team_ids))))
    else:
        team_ids = set(session.scalars(select(team.c.id)))
        people = set(session.scalars(select(person.c.id)))
        wanted["service"] |= set(session.scalars(select(Service.__table__.c.id)))
    wanted["team"] |= team_ids
    wanted["person"] |= people
    case_t, action_t, follow_t = Case.__table__, Action.__table__, FollowUp.__table__
    open_cases = select(case_t.c.id).where(case_t.c.closed_on.is_(None))
    open_actions = select(action_t.c.id).where(action_t.c.status == "open")
    undiscussed = select(follow_t.c.id).where(follow_t.c.supervision_id.is_(None))
    if team_codes:
        open_cases = open_cases.where(or_(case_t.c.team_id.in_(team_ids), case_t.c.worker_id.in_(people)))
        open_actions = open_actions.where(or_(action_t.c.team_id.in_(team_ids), action_t.c.owner_id.in_(people)))
        undiscussed = undiscussed.where(follow_t.c.worker_id.in_(people))
    wanted["case_file"] |= set(session.scalars(open_cases))
    wanted["action"] |= set(session.scalars(open_actions))
    wanted["follow_up"] |= set(session.scalars(undiscussed))
    wanted["audit_template"] |= set(session.scalars(select(AuditTemplate.__table__.c.id)))

    rows: dict[str, dict[uuid.UUID, RowMapping]] = defaultdict(dict)
    pending = wanted
    while pending:  # follow foreign keys until every referred-to record is in
        following: dict[str, set[uuid.UUID]] = defaultdict(set)
        for name, ids in pending.items():
            spec = specs[name]
            loaded = load_rows(session, spec, ids - rows[name].keys())
            rows[name].update(loaded)
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
                  records=tuple(records))


def export_reference(session: Session, *, team_codes: Sequence[str] = (), destination: str = "",
                     now: datetime | None = None) -> Bundle:
    """A reference bundle for a laptop that cannot reach the shared database, with its export
    recorded in the audit trail."""
    bundle = reference_bundle(session, team_codes=team_codes, now=now)
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
                       now: datetime | None = None, progress: Progress | None = None) -> PullSummary:
    """Bring the reference data from the shared database, and refresh what this laptop already holds."""
    bundle = reference_bundle(shared, team_codes=team_codes, also=synced_ids(local), now=now)
    return apply_reference(local, bundle, source=source, now=now, progress=progress)


def apply_reference(session: Session, bundle: Bundle, *, source: str, now: datetime | None = None,
                    progress: Progress | None = None) -> PullSummary:
    """Store pulled records here with their IDs and versions, marked synced. A record edited here
    and not yet synced is left alone (its edit goes up with the next export)."""
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
    for spec, items in grouped:
        local = load_rows(session, spec, (i.id for i in items))
        candidates: list[tuple[Incoming, RowMapping | None]] = []
        for inc in items:
            row = local.get(inc.id)
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
    set_state(session, "pulled_from", source)
    set_state(session, "pulled_at", now.isoformat())
    bind_to_puller(session, bundle.exported_by)  # the laptop is the puller's, whatever any setting says
    summary = PullSummary(source, added, updated, unchanged, tuple(kept), tuple(skipped))
    trail.record_event(session, "sync-pull", "sync_state", bundle.bundle_id,
                       new={"added": added, "updated": updated, "unchanged": unchanged,
                            "kept_local": len(kept), "skipped": len(skipped)},
                       detail=f"pulled reference data from {source}")
    return summary
