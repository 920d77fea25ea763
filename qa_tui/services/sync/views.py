"""What the sync screens need beyond the sync service: bundle files by path, a pull from a typed
URL, and a conflict's field values as text for reading and for editing by hand."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, Integer, String, Uuid, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from qa_tui.dates import parse_day
from qa_tui.db.base import Base, UTCDateTime
from qa_tui.db.engine import Database, describe_url
from qa_tui.db.migrate import HEAD_REVISION, needs_upgrade
from qa_tui.db.models import Case, Person, Service, Team
from qa_tui.errors import DatabaseUnavailable, NotFound, ValidationError
from qa_tui.files import exports_dir
from qa_tui.services.sync.bundle import (
    Receipt,
    read_bundle,
    read_receipt,
    receipt_path_for,
    write_bundle,
    write_receipt,
)
from qa_tui.services.sync.conflicts import ConflictView, get_conflict
from qa_tui.services.sync.export import export_changes
from qa_tui.services.sync.importing import import_bundle
from qa_tui.services.sync.pull import PullSummary, pull_from_database
from qa_tui.services.sync.receipts import AckSummary, acknowledge
from qa_tui.services.sync.tables import Progress

BUNDLE_SUFFIX = ".qsb"
YES, NO = ("yes", "y", "true"), ("no", "n", "false")


# --- bundle files -------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedFile:
    path: Path
    bundle_id: str | None  # None: nothing had changed, no file written
    records: int
    by_table: dict[str, int]
    encrypted: bool


def new_bundle_path(folder: Path, today: date) -> Path:
    """The first free `changes-YYYY-MM-DD[-n].qsb` in `folder`: a default that never replaces a
    bundle whose receipt has not come back yet."""
    stem = f"changes-{today.isoformat()}"
    candidate, n = folder / f"{stem}{BUNDLE_SUFFIX}", 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}{BUNDLE_SUFFIX}"
    return candidate


def newest_file(folder: Path, suffix: str) -> Path | None:
    """The most recently written file in `folder` whose name ends with `suffix`, if any."""
    try:
        found = [p for p in folder.iterdir() if p.name.endswith(suffix) and not p.name.startswith(".") and p.is_file()]
    except OSError:
        return None
    return max(found, key=lambda p: (p.stat().st_mtime_ns, p.name), default=None)


def export_to_file(session: Session, path: Path, *, exported_by: str, device_name: str, passphrase: str | None,
                   progress: Progress | None = None) -> ExportedFile:
    """Export this database's changes to `path` (0600, atomic, encrypted with a passphrase), in the
    caller's transaction so a file that cannot be written leaves no export in the audit trail.
    The app's own exports folder is made when missing; any other folder must exist."""
    path = Path(path).expanduser()
    if path.parent == exports_dir() and not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    bundle = export_changes(session, exported_by=exported_by, device_name=device_name, destination=str(path),
                            progress=progress)
    by_table: dict[str, int] = {}
    for record in bundle.records:
        by_table[record.table] = by_table.get(record.table, 0) + 1
    if not bundle.records:
        return ExportedFile(path, None, 0, {}, encrypted=bool(passphrase))
    write_bundle(path, bundle, passphrase)
    return ExportedFile(path, bundle.bundle_id, len(bundle.records), by_table, encrypted=bool(passphrase))


def import_file(session: Session, path: Path, *, passphrase: str | None, progress: Progress | None = None) -> Receipt:
    """Check and import the bundle at `path` in the caller's transaction. Write its receipt with
    `write_receipt_beside` only after that transaction has committed."""
    bundle = read_bundle(Path(path).expanduser(), schema=HEAD_REVISION, passphrase=passphrase)
    return import_bundle(session, bundle, progress=progress)


def write_receipt_beside(bundle_path: Path, receipt: Receipt) -> Path:
    target = receipt_path_for(Path(bundle_path).expanduser())
    write_receipt(target, receipt)
    return target


def acknowledge_file(session: Session, receipt_path: Path) -> AckSummary:
    return acknowledge(session, read_receipt(Path(receipt_path).expanduser()))


# --- pull from a typed URL ----------------------------------------------------------------


def split_password(url: str) -> tuple[str, str | None]:
    """A URL without its password, and the password, so a screen can keep the password hidden."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise ValidationError("URL", f"{url.strip()!r} is not a database URL "
                                     f"(expected postgresql+psycopg://login@host/database)") from None
    if parsed.password is None:
        return url.strip(), None
    without = URL.create(parsed.drivername, username=parsed.username, host=parsed.host, port=parsed.port,
                         database=parsed.database, query=parsed.query)
    return without.render_as_string(hide_password=False), str(parsed.password)


def open_shared_database(url: str, password: str | None = None) -> Database:
    """The shared database at `url`, acting as this database login, refused unless it is at this
    qa-tui's schema."""
    from qa_tui.identity import login_name

    plain_url, in_url = split_password(url)
    target = make_url(plain_url)
    if password or in_url:
        target = target.set(password=password or in_url)
    where = describe_url(plain_url)
    db = Database.open(target.render_as_string(hide_password=False), actor="unknown")
    try:
        db.actor = login_name(db.engine)
        if needs_upgrade(db.engine):
            raise DatabaseUnavailable(f"{where} is not at this qa-tui's schema; "
                                      f"run `qa-tui --db URL db upgrade` for it first.")
    except SQLAlchemyError as exc:
        db.dispose()
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseUnavailable(f"Cannot reach {where}: {first[0] if first else exc.__class__.__name__}") from None
    except DatabaseUnavailable:
        db.dispose()
        raise
    return db


def own_team_code(session: Session, team_id: uuid.UUID | None) -> str:
    """The code of the user's own team as this database knows it ("" when it does not)."""
    if team_id is None:
        return ""
    return session.scalar(select(Team.code).where(Team.id == team_id)) or ""


def pull_from_url(local: Session, url: str, *, password: str | None = None, team_codes: Sequence[str] = (),
                  today: date | None = None, progress: Progress | None = None) -> PullSummary:
    """Pull reference data from the shared database at `url` into `local`; the source is recorded
    with any password hidden."""
    plain_url, _ = split_password(url)
    shared = open_shared_database(url, password)
    try:
        with shared.reader() as remote:
            return pull_from_database(local, remote, source=describe_url(plain_url), team_codes=team_codes,
                                      today=today, progress=progress)
    finally:
        shared.dispose()


# --- conflicts: field values as text ------------------------------------------------------


@dataclass(frozen=True)
class ConflictDetail:
    view: ConflictView
    labels: dict[str, str]  # a referenced record's ID (as the fields hold it) -> who or what it is


def conflict_detail(session: Session, conflict_id: uuid.UUID) -> ConflictDetail:
    """A conflict with both versions, and a readable name for every record either version refers
    to (a person, team, service or case), so a manager can tell two IDs apart."""
    view = get_conflict(session, conflict_id)
    table = Base.metadata.tables[view.table]
    wanted: dict[str, set[uuid.UUID]] = {}
    for fk in table.foreign_keys:
        for fields in (view.live or {}, view.incoming):
            value = fields.get(fk.parent.key)
            if isinstance(value, str):
                try:
                    wanted.setdefault(fk.column.table.name, set()).add(uuid.UUID(value))
                except ValueError:
                    continue
    labels: dict[str, str] = {}
    for parent, ids in wanted.items():
        for record_id, label in _labels(session, parent, ids):
            labels[str(record_id)] = label
    return ConflictDetail(view, labels)


def _labels(session: Session, table: str, ids: set[uuid.UUID]) -> list[tuple[uuid.UUID, str]]:
    if table == Person.__tablename__:
        rows = session.execute(select(Person.id, Person.name, Person.staff_id).where(Person.id.in_(ids)))
        return [(rid, f"{name} ({staff})") for rid, name, staff in rows]
    if table in (Team.__tablename__, Service.__tablename__):
        model = Team if table == Team.__tablename__ else Service
        rows = session.execute(select(model.id, model.code, model.name).where(model.id.in_(ids)))
        return [(rid, f"{code} {name}") for rid, code, name in rows]
    if table == Case.__tablename__:
        return [(rid, f"case {ref}") for rid, ref in
                session.execute(select(Case.id, Case.reference).where(Case.id.in_(ids)))]
    return []


def field_text(value: Any) -> str:
    """A field's JSON-form value as a person reads and types it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES[0] if value else NO[0]
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_value_from_text(table: str, field: str, text: str) -> Any:
    """What was typed for one field of a record, in the JSON form a hand merge takes. Raises
    ValidationError naming the field when the text does not fit the column."""
    try:
        column = Base.metadata.tables[table].c[field]
    except KeyError:
        raise NotFound(f"{table}.{field}: no such field") from None
    text = text.strip()
    try:
        return _from_text(column, text)
    except ValueError as exc:
        raise ValidationError(field, str(exc)) from None


def _from_text(column: Column[Any], text: str) -> Any:
    kind = column.type
    if not text:
        if column.nullable:
            return None
        if isinstance(kind, String):
            return ""
        raise ValueError("must have a value")
    if isinstance(kind, JSON):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg}, column {exc.colno})") from None
    if isinstance(kind, Uuid):
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise ValueError(f"{text!r} is not a record ID") from None
    if isinstance(kind, UTCDateTime):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM+00:00)") from None
        if moment.tzinfo is None:
            raise ValueError(f"{text!r} needs a time zone (for example +00:00)")
        return moment.isoformat()
    if isinstance(kind, Date):
        return parse_day(text).isoformat()
    if isinstance(kind, Boolean):
        if text.lower() in YES:
            return True
        if text.lower() in NO:
            return False
        raise ValueError(f"{text!r}: expected yes or no")
    if isinstance(kind, Integer):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if isinstance(kind, String) and kind.length is not None and len(text) > kind.length:
        raise ValueError(f"longer than {kind.length} characters")
    return text
