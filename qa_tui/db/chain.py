"""Tamper evidence for a SQLite file's audit trail: at each commit every new event is sealed with
a hash over its fields and the previous event's hash, so changing, removing or reordering an
event afterwards breaks the chain from there on; `verify_chain` finds the first broken link.
The retention purge may empty an event's old and new values: a digest of them (`content_hash`)
is kept, so the chain still holds, and an emptied event is accepted only when a later purge is
on record. Whoever can write the file can still add rows before the next seal or cut the tail:
the chain shows tampering with what was sealed, it does not stop it (PostgreSQL's grants do)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, event, select, text, update
from sqlalchemy.orm import Session

from qa_tui.db.models import AuditEvent

GENESIS = "0" * 64
# The triggers that keep the trail append-only on SQLite (migrations 0002 and 0006).
SQLITE_TRAIL_TRIGGERS = ("audit_event_append_only_update", "audit_event_append_only_delete")
_t = AuditEvent.__table__


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_digest(old: Any, new: Any) -> str:
    return hashlib.sha256(_canonical({"old": old, "new": new}).encode()).hexdigest()


def link(previous: str, row: Any, content: str) -> str:
    fields = [previous, str(row.id), row.at.isoformat() if row.at else None, row.actor, row.person_staff_id,
              row.person_name, row.action, row.table_name, row.record_id, row.detail, content]
    return hashlib.sha256(_canonical(fields).encode()).hexdigest()


def _ordered(conn: Connection) -> Any:
    return select(text("audit_event.rowid"), *_t.c).select_from(_t).order_by(text("audit_event.rowid"))


def seal(conn: Connection) -> int:
    """Seal every unsealed event, in the order written, onto the chain. Returns how many."""
    last = conn.execute(select(_t.c.chain_hash).where(_t.c.chain_hash.is_not(None))
                        .order_by(text("audit_event.rowid DESC")).limit(1)).scalar()
    previous = last or GENESIS
    rows = conn.execute(_ordered(conn).where(_t.c.chain_hash.is_(None))).all()
    links = []
    for row in rows:
        content = content_digest(row.old, row.new)
        previous = link(previous, row, content)
        links.append({"b_id": row.id, "b_content": content, "b_chain": previous})
    if links:  # one executemany, not a statement per event
        conn.execute(update(_t).where(_t.c.id == bindparam("b_id", type_=_t.c.id.type))
                     .values(content_hash=bindparam("b_content"), chain_hash=bindparam("b_chain")), links)
    return len(rows)


_chained: set[str] = set()  # databases known to have the chain's columns (an older schema has not)


def _has_chain(conn: Connection) -> bool:
    key = str(conn.engine.url)
    if key not in _chained:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(audit_event)")}
        if "chain_hash" not in columns:
            return False
        _chained.add(key)
    return True


def _seal_before_commit(session: Session) -> None:
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    session.flush()
    conn = session.connection()
    if _has_chain(conn):
        seal(conn)


def install() -> None:
    if not event.contains(Session, "before_commit", _seal_before_commit):
        event.listen(Session, "before_commit", _seal_before_commit)


@dataclass(frozen=True)
class ChainReport:
    events: int
    sealed: int
    redacted: int  # events the retention purge emptied (accepted)
    problem: str  # the first broken link, or "" when the chain holds

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the trail in the order written and report the first event whose link does not hold."""
    if conn.dialect.name != "sqlite":
        return ChainReport(0, 0, 0, "")
    present = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    missing = [name for name in SQLITE_TRAIL_TRIGGERS if name not in present]
    rows = conn.execute(_ordered(conn)).all()
    last_purge = max((i for i, r in enumerate(rows) if r.table_name == "retention"), default=-1)
    previous, sealed, redacted = GENESIS, 0, 0
    for position, row in enumerate(rows, start=1):
        where = f"event {position} of {len(rows)} ({row.id}, {row.action} {row.table_name}, {row.at:%Y-%m-%d %H:%M} UTC)"
        if row.chain_hash is None:
            unsealed = len(rows) - position + 1
            return ChainReport(len(rows), sealed, redacted, f"{where} and {unsealed - 1} after it were never sealed: "
                               "written to the file outside qa-tui, or by a session that did not commit")
        content = content_digest(row.old, row.new)
        if content != row.content_hash:
            if row.old is None and row.new is None and row.content_hash and position - 1 < last_purge:
                content, redacted = row.content_hash, redacted + 1
            elif row.old is None and row.new is None:
                return ChainReport(len(rows), sealed, redacted,
                                   f"{where}: its old and new values were emptied, and no retention purge is on record after it")
            else:
                return ChainReport(len(rows), sealed, redacted, f"{where}: its old or new values were changed after it was written")
        expected = link(previous, row, content)
        if expected != row.chain_hash:
            return ChainReport(len(rows), sealed, redacted, f"{where}: the link is broken (the event was changed, or an "
                               "event before it was changed or removed)")
        previous, sealed = row.chain_hash, sealed + 1
    if missing:
        return ChainReport(len(rows), sealed, redacted, f"the trigger(s) {', '.join(missing)} that keep the trail "
                           "append-only have been dropped")
    return ChainReport(len(rows), sealed, redacted, "")
