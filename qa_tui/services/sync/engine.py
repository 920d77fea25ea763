"""Offline sync: pull reference data onto a laptop, export its changes as a bundle, import a bundle
into the shared database in one transaction, acknowledge the receipt, and resolve conflicts."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    RowMapping,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    any_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qa_tui.db import trail
from qa_tui.db.base import Base, UTCDateTime, utcnow
from qa_tui.db.migrate import HEAD_REVISION
from qa_tui.db.models import (
    EDITABLE_MODELS,
    SYNC_RESOLUTIONS,
    Action,
    AuditEvent,
    AuditTemplate,
    Case,
    FollowUp,
    Person,
    Service,
    SyncConflict,
    SyncImport,
    SyncState,
    Team,
)
from qa_tui.errors import ChangedElsewhere, NotAllowed, NotFound, QAError, ValidationError
from qa_tui.services.sync.bundle import (
    KIND_CHANGES,
    KIND_REFERENCE,
    Bundle,
    BundleRecord,
    BundleRefused,
    ConflictNote,
    Receipt,
    ReceiptRecord,
    content_hash,
)

Progress = Callable[[int, int], None]
CHUNK = 500  # rows per bulk write
LOAD_CHUNK = 2000  # IDs per lookup
BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "updated_by", "version", "synced_version"})
REASONS = {
    "edited-elsewhere": "changed in the shared database since the laptop's copy was taken",
    "no-base": "made offline with an ID the shared database already holds, with different content",
    "open-conflict": "an earlier conflict on this record is still waiting for a decision",
    "missing-parent": "refers to a record the shared database does not have",
    "duplicate-key": "repeats a code or reference that another record already uses",
}
T = TypeVar("T")


class ImportCollided(QAError):
    """The import's writes were refused (the same records changed meanwhile, or the database would
    not take a row); nothing from the bundle was written."""


# --- what callers get back ----------------------------------------------------------------


@dataclass(frozen=True)
class PullSummary:
    source: str
    added: int
    updated: int
    unchanged: int
    kept_local: tuple[tuple[str, str], ...]  # (table, id) edited here and not yet synced: left alone
    skipped: tuple[tuple[str, str, str], ...]  # (table, id, reason) that could not be stored here


@dataclass(frozen=True)
class AckSummary:
    bundle_id: str
    marked: int  # records whose "changed since sync" mark was cleared or moved on
    conflicts: int
    already_acknowledged: bool


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


# --- the syncable tables ------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    name: str
    table: Table
    model: type
    content: tuple[str, ...]  # the fields a record's content hash covers
    parents: tuple[tuple[str, str], ...]  # (column, referenced table)
    uniques: tuple[tuple[str, ...], ...]
    decoders: dict[str, Callable[[Any], Any]]

    @property
    def self_parents(self) -> tuple[str, ...]:
        return tuple(col for col, parent in self.parents if parent == self.name)


@cache
def _specs() -> dict[str, _Spec]:
    """Every Record table, parents before children."""
    models = {m.__table__.name: m for m in EDITABLE_MODELS}
    specs: dict[str, _Spec] = {}
    for table in Base.metadata.sorted_tables:
        model = models.get(table.name)
        if model is None:
            continue
        content = tuple(c.key for c in table.columns if c.key not in BOOKKEEPING)
        parents = tuple(sorted((fk.parent.key, fk.column.table.name) for fk in table.foreign_keys))
        uniques = {tuple(c.key for c in con.columns) for con in table.constraints if isinstance(con, UniqueConstraint)}
        uniques |= {tuple(c.key for c in ix.columns) for ix in table.indexes if ix.unique}
        specs[table.name] = _Spec(table.name, table, model, content, parents, tuple(sorted(uniques)),
                                  {key: _decoder(table.c[key]) for key in content})
    return specs


def _decoder(column: Column[Any]) -> Callable[[Any], Any]:
    """From a bundle's JSON value back to what the column stores; raises ValueError if it can't."""
    kind = column.type
    parse: Callable[[str], Any] | None = None
    expected: type
    if isinstance(kind, JSON):
        return _same
    if isinstance(kind, Uuid):
        expected, parse = str, uuid.UUID
    elif isinstance(kind, UTCDateTime):
        expected, parse = str, _as_utc_datetime
    elif isinstance(kind, Date):
        expected, parse = str, date.fromisoformat
    elif isinstance(kind, Boolean):
        expected = bool
    elif isinstance(kind, Integer):
        expected = int
    elif isinstance(kind, String):
        expected = str
    else:
        return _same
    nullable = bool(column.nullable)
    # SQLite does not enforce a column's length; PostgreSQL would refuse the whole transaction.
    longest = getattr(kind, "length", None) if expected is str and parse is None else None

    def decode(value: Any) -> Any:
        if type(value) is expected:  # exact type: a bool is not an int here
            if longest is not None and len(value) > longest:
                raise ValueError(f"longer than {longest} characters")
            return parse(value) if parse else value
        if value is None:
            if nullable:
                return None
            raise ValueError("must have a value")
        raise ValueError(f"expected {expected.__name__}, got {type(value).__name__}")

    return decode


def _same(value: Any) -> Any:
    return value


def _as_utc_datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date-time without a time zone")
    return moment


def _plain_fields(spec: _Spec, row: RowMapping) -> dict[str, Any]:
    return {key: trail.plain(row[key]) for key in spec.content}


def _record_from_row(spec: _Spec, row: RowMapping, base_version: int | None) -> BundleRecord:
    fields = _plain_fields(spec, row)
    return BundleRecord(table=spec.name, id=str(row["id"]), version=row["version"], base_version=base_version,
                        created_at=trail.plain(row["created_at"]), hash=content_hash(fields), fields=fields)


@dataclass
class _Incoming:
    spec: _Spec
    record: BundleRecord
    id: uuid.UUID
    values: dict[str, Any]
    created_at: datetime


def _decode_records(bundle: Bundle) -> list[tuple[_Spec, list[_Incoming]]]:
    """Check every record against this schema and convert its fields, before anything is written.
    Returns them grouped by table, parents first."""
    specs = _specs()
    grouped: dict[str, list[_Incoming]] = defaultdict(list)
    seen: set[tuple[str, uuid.UUID]] = set()
    for index, record in enumerate(bundle.records, 1):
        where = f"record {index} ({record.table} {record.id})"
        spec = specs.get(record.table)
        if spec is None:
            raise BundleRefused(bundle.source, f"{where}: no such table in this schema")
        if record.fields.keys() != set(spec.content):
            odd = sorted(set(record.fields) ^ set(spec.content))
            raise BundleRefused(bundle.source, f"{where}: its fields do not match this schema ({', '.join(odd)})")
        try:
            record_id = uuid.UUID(record.id)
            created_at = _as_utc_datetime(record.created_at)
        except ValueError as exc:
            raise BundleRefused(bundle.source, f"{where}: bad ID or creation time ({exc})") from None
        if (spec.name, record_id) in seen:
            raise BundleRefused(bundle.source, f"{where}: the same record appears twice")
        seen.add((spec.name, record_id))
        values = _decode_fields(spec, record.fields, source=bundle.source, where=where)
        grouped[spec.name].append(_Incoming(spec, record, record_id, values, created_at))
    return [(spec, _parent_first(spec, grouped[name], lambda i: i.id, lambda i, c: i.values[c]))
            for name, spec in specs.items() if grouped.get(name)]


def _decode_fields(spec: _Spec, fields: dict[str, Any], *, source: str, where: str) -> dict[str, Any]:
    values = {}
    for key, raw in fields.items():
        try:
            values[key] = spec.decoders[key](raw)
        except (ValueError, TypeError) as exc:
            raise ValidationError(source, f"{where}, field {key!r}: {exc}") from None
    return values


def _parent_first(spec: _Spec, items: list[T], id_of: Callable[[T], Any],
                  value_of: Callable[[T, str], Any]) -> list[T]:
    """Order a table's rows so a row referring to another row of the same table comes after it."""
    columns = spec.self_parents
    if not columns:
        return items
    by_id = {id_of(item): item for item in items}
    placed: set[Any] = set()
    visiting: set[Any] = set()
    ordered: list[T] = []
    for root in items:
        stack = [(root, False)]
        while stack:
            item, expanded = stack.pop()
            key = id_of(item)
            if key in placed:
                continue
            if expanded:
                placed.add(key)
                ordered.append(item)
                continue
            if key in visiting:
                continue
            visiting.add(key)
            stack.append((item, True))
            for column in columns:
                parent = value_of(item, column)
                if parent in by_id and parent not in placed:
                    stack.append((by_id[parent], False))
    return ordered


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _load_rows(session: Session, spec: _Spec, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, RowMapping]:
    """Whole rows by ID, a chunk at a time. Not locked: an update only applies to a row still at
    the version it was read at, so a concurrent change makes the import fail, never overwrites."""
    rows: dict[uuid.UUID, RowMapping] = {}
    for chunk in _chunks(sorted(set(ids)), LOAD_CHUNK):
        for row in session.execute(select(spec.table).where(_among(session, spec.table.c.id, chunk))).mappings():
            rows[row["id"]] = row
    return rows


def _existing_ids(session: Session, spec: _Spec, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(sorted(set(ids)), LOAD_CHUNK):
        found.update(session.scalars(select(spec.table.c.id).where(_among(session, spec.table.c.id, chunk))))
    return found


def _among(session: Session, column: Column[Any], ids: Sequence[uuid.UUID]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(array)`, one parameter instead of thousands,
    which makes a 10k-record lookup several times faster."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(ids)


# --- local sync state ---------------------------------------------------------------------


def _get_state(session: Session, key: str) -> str | None:
    return session.scalar(select(SyncState.value).where(SyncState.key == key))


def _set_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key)
    if row is None:
        session.add(SyncState(key=key, value=value))
    else:
        row.value = value
    session.flush()


def device_id(session: Session) -> str:
    """This database's device ID, made on first use."""
    value = _get_state(session, "device_id")
    if value is None:
        value = str(uuid.uuid4())
        _set_state(session, "device_id", value)
    return value


def pending_changes(session: Session) -> dict[str, int]:
    """Records created or changed here since the last acknowledged sync, per table."""
    counts = {}
    for spec in _specs().values():
        t = spec.table
        n = session.scalar(select(func.count()).select_from(t).where(_changed_since_sync(t)))
        if n:
            counts[spec.name] = int(n)
    return counts


def _changed_since_sync(t: Table) -> Any:
    return or_(t.c.synced_version.is_(None), t.c.version != t.c.synced_version)


def sync_status(session: Session) -> SyncStatus:
    pending = pending_changes(session)
    open_conflicts = session.scalar(select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open"))
    return SyncStatus(
        device_id=_get_state(session, "device_id"), pending=sum(pending.values()), pending_by_table=pending,
        last_ack_bundle=_get_state(session, "last_ack_bundle"), last_ack_at=_get_state(session, "last_ack_at"),
        pulled_from=_get_state(session, "pulled_from"), pulled_at=_get_state(session, "pulled_at"),
        open_conflicts=int(open_conflicts or 0),
    )


# --- export (laptop) ----------------------------------------------------------------------


def export_changes(session: Session, *, exported_by: str, device_name: str = "", destination: str = "",
                   now: datetime | None = None, progress: Progress | None = None) -> Bundle:
    """Everything created or changed here since the last acknowledged sync, as one bundle. Marks
    nothing: the same changes are exported again until a receipt is acknowledged."""
    now = now or utcnow()
    device = device_id(session)
    total = sum(pending_changes(session).values())
    records: list[BundleRecord] = []
    for spec in _specs().values():
        t = spec.table
        rows = session.execute(select(t).where(_changed_since_sync(t)).order_by(t.c.id)).mappings().all()
        rows = _parent_first(spec, list(rows), lambda r: r["id"], lambda r, c: r[c])
        records.extend(_record_from_row(spec, row, row["synced_version"]) for row in rows)
        if progress and rows:
            progress(len(records), total)
    bundle = Bundle(bundle_id=str(uuid.uuid4()), kind=KIND_CHANGES, schema=HEAD_REVISION, device=device,
                    device_name=device_name, exported_by=exported_by, created_at=now.isoformat(),
                    records=tuple(records))
    if records:
        by_table: dict[str, int] = defaultdict(int)
        for record in records:
            by_table[record.table] += 1
        trail.record_event(session, "sync-export", "sync_state", bundle.bundle_id, new=dict(by_table),
                           detail=f"exported {len(records)} changed records" + (f" to {destination}" if destination else ""))
    return bundle


# --- pull (laptop) ------------------------------------------------------------------------


def reference_bundle(session: Session, *, team_codes: Sequence[str] = (), also: dict[str, set[uuid.UUID]] | None = None,
                     now: datetime | None = None, progress: Progress | None = None) -> Bundle:
    """What a manager needs offline, read from the shared database: teams, services, people, open
    cases, open actions, undiscussed follow-ups and audit templates (for `team_codes` only, when
    given), the records `also` names, and every record those refer to."""
    now = now or utcnow()
    specs = _specs()
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
            loaded = _load_rows(session, spec, ids - rows[name].keys())
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
        ordered = _parent_first(spec, sorted(rows[name].values(), key=lambda r: r["id"]),
                                lambda r: r["id"], lambda r, c: r[c])
        records.extend(_record_from_row(spec, row, None) for row in ordered)
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
    for spec in _specs().values():
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
    grouped = _decode_records(bundle)
    writer = _Writer(session, now, f"pulled from {source}", len(bundle.records), progress)
    added = updated = unchanged = 0
    kept: list[tuple[str, str]] = []
    skipped: list[tuple[str, str, str]] = []
    for spec, items in grouped:
        local = _load_rows(session, spec, (i.id for i in items))
        candidates: list[tuple[_Incoming, RowMapping | None]] = []
        for inc in items:
            row = local.get(inc.id)
            if row is None:
                candidates.append((inc, None))
                continue
            same = content_hash(_plain_fields(spec, row)) == inc.record.hash
            changed_here = row["synced_version"] is None or row["version"] != row["synced_version"]
            if same and not changed_here and row["version"] == inc.record.version:
                unchanged += 1
            elif changed_here and not same:
                kept.append((spec.name, str(inc.id)))
            else:
                candidates.append((inc, row))
        problems = _reference_problems(session, spec, candidates, writer.present)
        skipped.extend((spec.name, str(inc.id), problems[inc.id]) for inc, _ in candidates if inc.id in problems)
        inserts = [inc for inc, row in candidates if row is None and inc.id not in problems]
        updates = [(inc, row, inc.record.version) for inc, row in candidates if row is not None and inc.id not in problems]
        writer.insert(spec, inserts, synced=True)
        writer.update(spec, updates, synced=True)
        writer.settle(len(items) - len(inserts) - len(updates))
        added += len(inserts)
        updated += len(updates)
    _set_state(session, "pulled_from", source)
    _set_state(session, "pulled_at", now.isoformat())
    summary = PullSummary(source, added, updated, unchanged, tuple(kept), tuple(skipped))
    trail.record_event(session, "sync-pull", "sync_state", bundle.bundle_id,
                       new={"added": added, "updated": updated, "unchanged": unchanged,
                            "kept_local": len(kept), "skipped": len(skipped)},
                       detail=f"pulled reference data from {source}")
    return summary


# --- import (shared database) -------------------------------------------------------------


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
    grouped = _decode_records(bundle)
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
    run = _ImportRun(session, bundle, bundle_uuid, _Writer(
        session, now, f"sync bundle {bundle.bundle_id} from {bundle.exported_by}", len(bundle.records), progress))
    try:
        for spec, items in grouped:
            run.import_table(spec, items)
    except _RowsMoved:
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
             "conflicts": [[c.table, c.id] for c in receipt.conflicts]},
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

    def __init__(self, session: Session, bundle: Bundle, bundle_id: uuid.UUID, writer: _Writer) -> None:
        self.session, self.bundle, self.bundle_id, self.writer = session, bundle, bundle_id, writer
        self.records: list[ReceiptRecord] = []
        self.conflicts: list[ConflictNote] = []
        self.counts = {"added": 0, "updated": 0, "unchanged": 0}
        # (table, record) -> incoming hash -> (conflict ID, reason), for the conflicts still open
        self.open_conflicts: dict[tuple[str, uuid.UUID], dict[str, tuple[uuid.UUID, str]]] = defaultdict(dict)
        for cid, table, rid, digest, reason in session.execute(
                select(SyncConflict.id, SyncConflict.table_name, SyncConflict.record_id, SyncConflict.incoming_hash,
                       SyncConflict.reason).where(SyncConflict.status == "open")):
            self.open_conflicts[(table, rid)][digest] = (cid, reason)

    def import_table(self, spec: _Spec, items: list[_Incoming]) -> None:
        live_rows = _load_rows(self.session, spec, (i.id for i in items))
        live_fields: dict[uuid.UUID, dict[str, Any]] = {}
        candidates: list[tuple[_Incoming, RowMapping | None]] = []
        conflicts: list[tuple[_Incoming, RowMapping | None, str]] = []
        for inc in items:
            live = live_rows.get(inc.id)
            if live is not None:
                live_fields[inc.id] = _plain_fields(spec, live)
                if content_hash(live_fields[inc.id]) == inc.record.hash:
                    self._note(inc, "unchanged", live["version"])
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
        problems = _reference_problems(self.session, spec, candidates, self.writer.present)
        inserts: list[_Incoming] = []
        updates: list[tuple[_Incoming, RowMapping, int]] = []
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

    def _keep_conflicts(self, spec: _Spec, conflicts: list[tuple[_Incoming, RowMapping | None, str]]) -> None:
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
        for chunk in _chunks(rows):
            _bulk_insert(self.session, SyncConflict.__table__, list(chunk))

    def _note(self, inc: _Incoming, outcome: str, shared_version: int | None) -> None:
        self.records.append(ReceiptRecord(inc.spec.name, str(inc.id), outcome, inc.record.version, shared_version))
        if outcome in self.counts:
            self.counts[outcome] += 1

    def receipt(self, now: datetime) -> Receipt:
        return Receipt(bundle_id=self.bundle.bundle_id, device=self.bundle.device,
                       exported_by=self.bundle.exported_by, imported_at=now.isoformat(),
                       imported_by=self.writer.actor, added=self.counts["added"],
                       updated=self.counts["updated"], unchanged=self.counts["unchanged"],
                       conflicts=tuple(self.conflicts), records=tuple(self.records))


def _reference_problems(session: Session, spec: _Spec, candidates: list[tuple[_Incoming, RowMapping | None]],
                        present: dict[str, set[uuid.UUID]]) -> dict[uuid.UUID, str]:
    """Candidates (parents first) that would break a unique key or refer to a record that is not
    there; checked up front because a failed statement would abort the whole transaction.
    Accepted new records are added to `present` so their children can refer to them."""
    problems: dict[uuid.UUID, str] = {}
    for columns in spec.uniques:
        claims: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
        for inc, live in candidates:
            key = tuple(inc.values[c] for c in columns)
            if None in key or (live is not None and all(live[c] == inc.values[c] for c in columns)):
                continue
            claims[key].append(inc.id)
        for ids in claims.values():
            for extra in ids[1:]:
                problems[extra] = "duplicate-key"
        for key, holder in _key_holders(session, spec, columns, list(claims)):
            for claimant in claims.get(key, ()):
                if claimant != holder:
                    problems[claimant] = "duplicate-key"
    lookups: dict[str, set[uuid.UUID]] = defaultdict(set)
    for inc, _ in candidates:
        for column, parent in spec.parents:
            ref = inc.values[column]
            if ref is not None and ref not in present[parent]:
                lookups[parent].add(ref)
    specs = _specs()
    found = {parent: _existing_ids(session, specs[parent], ids) for parent, ids in lookups.items()}
    for inc, live in candidates:
        if inc.id in problems:
            continue
        for column, parent in spec.parents:
            ref = inc.values[column]
            if ref is not None and ref not in present[parent] and ref not in found.get(parent, ()):
                problems[inc.id] = "missing-parent"
                break
        else:
            if live is None:
                present[spec.name].add(inc.id)
    return problems


def _key_holders(session: Session, spec: _Spec, columns: tuple[str, ...],
                 keys: list[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], uuid.UUID]]:
    cols = [spec.table.c[c] for c in columns]
    target = cols[0] if len(cols) == 1 else tuple_(*cols)
    for chunk in _chunks(keys):
        values = [k[0] for k in chunk] if len(cols) == 1 else list(chunk)
        for row in session.execute(select(spec.table.c.id, *cols).where(target.in_(values))):
            yield tuple(row[1:]), row[0]


def _bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that each give every column. On PostgreSQL through COPY, about twice as fast
    as batched INSERTs; the values still pass through each column type's own bind processing."""
    conn = session.connection()
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    dialect = conn.dialect
    keys = list(rows[0])
    processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    quote = dialect.identifier_preparer.quote
    command = f"COPY {quote(table.name)} ({', '.join(quote(table.c[k].name) for k in keys)}) FROM STDIN"
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            copy.write_row([process(row[k]) if process else row[k] for k, process in zip(keys, processors)])


class _RowsMoved(Exception):
    """An update matched fewer rows than expected: someone else changed them meanwhile."""


class _Writer:
    """Bulk writes for one import or pull: Core inserts and updates a chunk at a time, with the
    audit-trail events the ORM would have written, and progress as records are settled."""

    def __init__(self, session: Session, now: datetime, detail: str, total: int, progress: Progress | None) -> None:
        self.session = session
        self.actor = trail.actor_of(session)
        self.now, self.detail, self.total, self.progress = now, detail, total, progress
        self.done = 0
        self.present: dict[str, set[uuid.UUID]] = defaultdict(set)  # records added in this run

    def settle(self, count: int) -> None:
        self.done += count
        if self.progress and count:
            self.progress(self.done, self.total)

    def insert(self, spec: _Spec, items: list[_Incoming], *, synced: bool) -> None:
        for chunk in _chunks(items):
            _bulk_insert(self.session, spec.table, [
                {**inc.values, "id": inc.id, "created_at": inc.created_at, "updated_at": self.now,
                 "updated_by": self.actor, "version": inc.record.version,
                 "synced_version": inc.record.version if synced else None}
                for inc in chunk])
            self._events([("insert", spec.name, inc.id, None, {"id": inc.record.id, **inc.record.fields})
                          for inc in chunk])
            self.settle(len(chunk))

    def update(self, spec: _Spec, items: list[tuple[_Incoming, RowMapping, int]], *, synced: bool,
               live_fields: dict[uuid.UUID, dict[str, Any]] | None = None) -> None:
        """Overwrite the fields of rows still at the version they were read at, setting `new_version`
        (and marking them synced on a laptop)."""
        if not items:
            return
        t = spec.table
        values: dict[str, Any] = {key: bindparam(f"v_{key}", type_=t.c[key].type) for key in spec.content}
        values |= {"version": bindparam("b_version", type_=Integer), "updated_at": self.now, "updated_by": self.actor}
        if synced:
            values["synced_version"] = bindparam("b_synced", type_=Integer)
        stmt = update(t).where(t.c.id == bindparam("b_id", type_=t.c.id.type),
                               t.c.version == bindparam("b_expected", type_=Integer)).values(values)
        conn = self.session.connection()
        for chunk in _chunks(items):
            params = [{**{f"v_{k}": v for k, v in inc.values.items()}, "b_id": inc.id,
                       "b_expected": live["version"], "b_version": new_version, "b_synced": new_version}
                      for inc, live, new_version in chunk]
            result = conn.execute(stmt, params)
            if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(chunk):
                raise _RowsMoved()
            events = []
            for inc, live, _ in chunk:
                before = (live_fields or {}).get(inc.id) or _plain_fields(spec, live)
                changed = [k for k in spec.content if before[k] != inc.record.fields[k]]
                if changed:
                    events.append(("update", spec.name, inc.id, {k: before[k] for k in changed},
                                   {k: inc.record.fields[k] for k in changed}))
            self._events(events)
            self.settle(len(chunk))

    def _events(self, events: list[tuple[str, str, uuid.UUID, dict[str, Any] | None, dict[str, Any] | None]]) -> None:
        if events:
            _bulk_insert(self.session, AuditEvent.__table__, [
                {"id": uuid.uuid4(), "at": self.now, "actor": self.actor, "action": action, "table_name": table,
                 "record_id": str(rid), "old": old, "new": new, "detail": self.detail}
                for action, table, rid, old, new in events])


# --- acknowledge (laptop) -----------------------------------------------------------------


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
    if _get_state(session, acked_key) is not None:
        return AckSummary(receipt.bundle_id, 0, len(receipt.conflicts), already_acknowledged=True)
    specs = _specs()
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
        for chunk in _chunks(records):
            result = conn.execute(stmt, [
                {"b_id": uuid.UUID(r.id), "b_local": r.local_version,
                 # a record held only in a conflict row is handed over as the version the laptop sent
                 "b_shared": r.shared_version if r.shared_version is not None else r.local_version}
                for r in chunk])
            marked += max(result.rowcount, 0)
    _set_state(session, acked_key, now.isoformat())
    _set_state(session, "last_ack_bundle", receipt.bundle_id)
    _set_state(session, "last_ack_at", now.isoformat())
    trail.record_event(session, "sync-ack", "sync_state", receipt.bundle_id,
                       new={"marked": marked, "conflicts": len(receipt.conflicts)},
                       detail=f"acknowledged the receipt for bundle {receipt.bundle_id} "
                              f"(imported by {receipt.imported_by} at {receipt.imported_at})")
    return AckSummary(receipt.bundle_id, marked, len(receipt.conflicts), already_acknowledged=False)


# --- conflicts (shared database) ----------------------------------------------------------


def list_conflicts(session: Session, *, status: str | None = "open") -> list[ConflictView]:
    """Conflicts, oldest import first, each with the incoming and the current live version."""
    stmt = (select(SyncConflict, SyncImport.device, SyncImport.exported_by, SyncImport.imported_at)
            .join(SyncImport, SyncImport.bundle_id == SyncConflict.bundle_id)
            .order_by(SyncImport.imported_at, SyncConflict.table_name, SyncConflict.record_id))
    if status is not None:
        stmt = stmt.where(SyncConflict.status == status)
    found = session.execute(stmt).all()
    specs = _specs()
    live: dict[str, dict[uuid.UUID, RowMapping]] = {}
    for name in {c.table_name for c, *_ in found}:
        live[name] = _load_rows(session, specs[name], (c.record_id for c, *_ in found if c.table_name == name))
    return [_view(specs[c.table_name], c, device, exported_by, imported_at, live[c.table_name].get(c.record_id))
            for c, device, exported_by, imported_at in found]


def get_conflict(session: Session, conflict_id: uuid.UUID) -> ConflictView:
    row = session.execute(
        select(SyncConflict, SyncImport.device, SyncImport.exported_by, SyncImport.imported_at)
        .join(SyncImport, SyncImport.bundle_id == SyncConflict.bundle_id)
        .where(SyncConflict.id == conflict_id)).first()
    if row is None:
        raise NotFound(f"No sync conflict with ID {conflict_id}.")
    conflict, device, exported_by, imported_at = row
    spec = _specs()[conflict.table_name]
    return _view(spec, conflict, device, exported_by, imported_at,
                 _load_rows(session, spec, [conflict.record_id]).get(conflict.record_id))


def _view(spec: _Spec, c: SyncConflict, device: str, exported_by: str, imported_at: datetime,
          live: RowMapping | None) -> ConflictView:
    live_fields = _plain_fields(spec, live) if live is not None else None
    differing = tuple(k for k in spec.content if live_fields is None or live_fields[k] != c.incoming.get(k))
    return ConflictView(
        id=c.id, table=c.table_name, record_id=c.record_id, reason=c.reason, explanation=REASONS.get(c.reason, c.reason),
        bundle_id=c.bundle_id, device=device, exported_by=exported_by, imported_at=imported_at,
        base_version=c.base_version, live_version_at_import=c.live_version,
        live_version=live["version"] if live is not None else None, incoming=dict(c.incoming),
        live=live_fields, differing=differing, status=c.status, resolution=c.resolution,
        resolved_by=c.resolved_by, resolved_at=c.resolved_at,
    )


def resolve_conflict(session: Session, conflict_id: uuid.UUID, choice: str,
                     merged_fields: dict[str, Any] | None = None, *, by: str,
                     expected_live_version: int | None = None, now: datetime | None = None) -> ConflictView:
    """Decide a conflict: keep the shared version, take the incoming one, or save a hand merge
    (`merged_fields` in the JSON form `ConflictView` shows, over the live version). Give the live
    version the screen showed as `expected_live_version` to refuse if it has changed since."""
    if choice not in SYNC_RESOLUTIONS:
        raise ValidationError("choice", f"expected one of {', '.join(SYNC_RESOLUTIONS)}, got {choice!r}")
    conflict = session.get(SyncConflict, conflict_id, with_for_update=True, populate_existing=True)
    if conflict is None:
        raise NotFound(f"No sync conflict with ID {conflict_id}.")
    if conflict.status != "open":
        raise NotAllowed(f"Conflict {conflict_id} was already resolved ({conflict.resolution}) by "
                         f"{conflict.resolved_by} at {conflict.resolved_at:%Y-%m-%d %H:%M}.")
    spec = _specs()[conflict.table_name]
    live = session.get(spec.model, conflict.record_id, populate_existing=True)
    if expected_live_version is not None and (live.version if live is not None else None) != expected_live_version:
        raise ChangedElsewhere("The shared copy of this record")
    before = {k: trail.plain(getattr(live, k)) for k in spec.content} if live is not None else None
    chosen: dict[str, Any] | None = None
    if choice == "incoming":
        chosen = dict(conflict.incoming)
    elif choice == "merged":
        if not merged_fields:
            raise ValidationError("merged_fields", "a hand merge needs the field values to keep")
        unknown = sorted(set(merged_fields) - set(spec.content))
        if unknown:
            raise ValidationError("merged_fields", f"{', '.join(unknown)}: not a field of {spec.name}")
        chosen = {**(before if before is not None else conflict.incoming), **merged_fields}
    if chosen is not None:
        values = _decode_fields(spec, chosen, source=f"conflict {conflict_id}", where=spec.name)
        try:
            with session.begin_nested():
                if live is None:
                    session.add(spec.model(id=conflict.record_id, **values))
                else:
                    for key, value in values.items():
                        if getattr(live, key) != value:
                            setattr(live, key, value)
                session.flush()
        except StaleDataError:
            raise ChangedElsewhere("The shared copy of this record") from None
        except IntegrityError as exc:
            problem = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise NotAllowed(f"The {choice} version of this {spec.name} record cannot be saved here ({problem}). "
                             f"Keep the shared version, or merge by hand.") from None
    conflict.status = "resolved"
    conflict.resolution = choice
    conflict.resolved_by = by
    conflict.resolved_at = now or utcnow()
    trail.record_event(session, "sync-resolve", conflict.table_name, conflict.record_id, old=before, new=chosen,
                       detail=f"conflict {conflict_id} ({conflict.reason}) from bundle {conflict.bundle_id}: "
                              f"kept the {choice} version")
    session.flush()
    return get_conflict(session, conflict_id)
