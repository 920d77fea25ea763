"""Bulk writes for an import or a pull: the checks a row must pass before it is written (unique
keys, parents present), Core inserts and version-checked updates a chunk at a time (COPY on
PostgreSQL), and the audit-trail events the ORM would have written."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, RowMapping, Table, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from qa_tui.db import trail
from qa_tui.db.models import AuditEvent
from qa_tui.services.sync.tables import (
    Incoming,
    Progress,
    TableSpec,
    chunks,
    existing_ids,
    plain_fields,
    table_specs,
)


def reference_problems(session: Session, spec: TableSpec, candidates: list[tuple[Incoming, RowMapping | None]],
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
    specs = table_specs()
    found = {parent: existing_ids(session, specs[parent], ids) for parent, ids in lookups.items()}
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


def _key_holders(session: Session, spec: TableSpec, columns: tuple[str, ...],
                 keys: list[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], uuid.UUID]]:
    cols = [spec.table.c[c] for c in columns]
    target = cols[0] if len(cols) == 1 else tuple_(*cols)
    for chunk in chunks(keys):
        values = [k[0] for k in chunk] if len(cols) == 1 else list(chunk)
        for row in session.execute(select(spec.table.c.id, *cols).where(target.in_(values))):
            yield tuple(row[1:]), row[0]


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
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


class RowsMoved(Exception):
    """An update matched fewer rows than expected: someone else changed them meanwhile."""


class BulkWriter:
    """Bulk writes for one import or pull: Core inserts and updates a chunk at a time, with the
    audit-trail events the ORM would have written, and progress as records are settled."""

    def __init__(self, session: Session, now: datetime, detail: str, total: int, progress: Progress | None,
                 *, actor: str | None = None) -> None:
        self.session = session
        self.importer = trail.actor_of(session)  # the login writing: every trail event's actor
        self.actor = actor or self.importer  # who the rows are by (on import, the laptop's author)
        trail.name_actor(session)
        trail.note_in_trail(session, detail)
        self.now, self.detail, self.total, self.progress = now, detail, total, progress
        self.done = 0
        self.present: dict[str, set[uuid.UUID]] = defaultdict(set)  # records added in this run

    def settle(self, count: int) -> None:
        self.done += count
        if self.progress and count:
            self.progress(self.done, self.total)

    def insert(self, spec: TableSpec, items: list[Incoming], *, synced: bool) -> None:
        for chunk in chunks(items):
            bulk_insert(self.session, spec.table, [
                {**inc.values, "id": inc.id, "created_at": inc.created_at, "updated_at": self.now,
                 "updated_by": self.actor, "version": inc.record.version,
                 "synced_version": inc.record.version if synced else None}
                for inc in chunk])
            self._events([("insert", spec.name, inc.id, None, {"id": inc.record.id, **inc.record.fields})
                          for inc in chunk])
            self.settle(len(chunk))

    def update(self, spec: TableSpec, items: list[tuple[Incoming, RowMapping, int]], *, synced: bool,
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
        for chunk in chunks(items):
            params = [{**{f"v_{k}": v for k, v in inc.values.items()}, "b_id": inc.id,
                       "b_expected": live["version"], "b_version": new_version, "b_synced": new_version}
                      for inc, live, new_version in chunk]
            result = conn.execute(stmt, params)
            if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(chunk):
                raise RowsMoved()
            events = []
            for inc, live, _ in chunk:
                before = (live_fields or {}).get(inc.id) or plain_fields(spec, live)
                changed = [k for k in spec.content if before[k] != inc.record.fields[k]]
                if changed:
                    events.append(("update", spec.name, inc.id, {k: before[k] for k in changed},
                                   {k: inc.record.fields[k] for k in changed}))
            self._events(events)
            self.settle(len(chunk))

    def delete(self, spec: TableSpec, rows: list[RowMapping]) -> None:
        """Delete rows still at the version they were read at, each with its trail event."""
        if not rows:
            return
        t = spec.table
        stmt = delete(t).where(t.c.id == bindparam("b_id", type_=t.c.id.type),
                               t.c.version == bindparam("b_expected", type_=Integer))
        conn = self.session.connection()
        for chunk in chunks(rows):
            result = conn.execute(stmt, [{"b_id": row["id"], "b_expected": row["version"]} for row in chunk])
            if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(chunk):
                raise RowsMoved()
            self._events([("delete", spec.name, row["id"], plain_fields(spec, row), None) for row in chunk])
            self.settle(len(chunk))

    def _events(self, events: list[tuple[str, str, uuid.UUID, dict[str, Any] | None, dict[str, Any] | None]]) -> None:
        events = [e for e in events if not trail.trailed_by_database(self.session, e[1])]
        if events:
            person = trail.event_person(self.session)
            bulk_insert(self.session, AuditEvent.__table__, [
                {"id": uuid.uuid4(), "at": self.now, "actor": self.importer, "action": action, "table_name": table,
                 "record_id": str(rid), "old": old, "new": new, "detail": self.detail, **person}
                for action, table, rid, old, new in events])
