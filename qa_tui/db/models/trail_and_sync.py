"""The app's own records rather than QA work: the audit trail, unsaved drafts, and the
bookkeeping of offline sync (bundles imported, conflicts kept aside, this database's state)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, FetchedValue, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from qa_tui.db.base import Base, utcnow

class Draft(Base):
    """Unsaved form text kept between keystrokes so a killed session can be resumed."""

    __tablename__ = "draft"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """The audit trail: who changed what and when, old and new values. Append-only."""

    __tablename__ = "audit_event"
    __mapper_args__ = {"eager_defaults": False}  # never read the database-filled columns back at insert

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20))  # insert / update / delete / import / export / ...
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(40), index=True)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")
    # The person behind the login (None: a login linked to no one, or the app's own set-up).
    # FetchedValue: left out of an INSERT that does not name them (the database may fill them).
    person_staff_id: Mapped[str | None] = mapped_column(String(40), server_default=FetchedValue())
    person_name: Mapped[str | None] = mapped_column(String(200), server_default=FetchedValue())
    # SQLite only: a digest of old and new (kept when the retention purge empties them), and this
    # event's link in the hash chain (qa_tui.db.chain); set at commit.
    content_hash: Mapped[str | None] = mapped_column(String(64), server_default=FetchedValue())
    chain_hash: Mapped[str | None] = mapped_column(String(64), server_default=FetchedValue())


# --- offline sync -------------------------------------------------------------------------

SYNC_RESOLUTIONS = ("shared", "incoming", "merged")


class SyncImport(Base):
    """The import log: one row per bundle imported here, holding the receipt it produced. The
    bundle ID as primary key makes a repeated or concurrent import of the same bundle a no-op."""

    __tablename__ = "sync_import"

    bundle_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    device: Mapped[str] = mapped_column(String(80))
    exported_by: Mapped[str] = mapped_column(String(120))


class SyncConflict(Base):
    """An incoming record kept aside, with the live row left alone, until a manager decides."""

    __tablename__ = "sync_conflict"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(20))  # qa_tui.services.sync.conflicts.REASONS
    incoming: Mapped[dict[str, Any]] = mapped_column(JSON)  # the laptop's fields, as in the bundle
    incoming_hash: Mapped[str] = mapped_column(String(64))
    base_version: Mapped[int | None]
    live_version: Mapped[int | None]  # None: the record did not exist here at import
    bundle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_import.bundle_id"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    resolution: Mapped[str | None] = mapped_column(String(12))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
    # The laptop deleted the record (a tombstone): taking the incoming version deletes it here.
    deletion: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A history row (an action's extension) held with its record's conflict, decided with it.
    held_by: Mapped[uuid.UUID | None] = mapped_column(index=True)

    __table_args__ = (
        CheckConstraint("status IN ('open','resolved')", name="status"),
        CheckConstraint("resolution IS NULL OR resolution IN ('shared','incoming','merged')", name="resolution"),
        Index("ix_sync_conflict_status_record", "status", "table_name", "record_id"),
    )


class SyncState(Base):
    """This database's own sync bookkeeping: its device ID, the last acknowledged bundle, where it
    last pulled from, and one `acked:<bundle id>` key per acknowledged receipt."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncTombstone(Base):
    """A record deleted here that the shared database knows (it came from or went to it): the
    deletion goes up with the next export, from the version it was deleted at, until a receipt
    accounts for it."""

    __tablename__ = "sync_tombstone"

    table_name: Mapped[str] = mapped_column(String(60), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int]  # the version deleted
    base_version: Mapped[int | None]  # the version last synced, which the deletion starts from
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # the record's own creation time
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_by: Mapped[str] = mapped_column(String(120), default="")
