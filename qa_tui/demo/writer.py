"""Streaming the demo council into the database: buffered bulk inserts, parents first, and a
larger SQLite page cache while the build runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from qa_tui.db.base import Base, Record
from qa_tui.db.models import EDITABLE_MODELS

BATCH_ROWS = 8000
BUILD_CACHE_KIB = 256 * 1024


@contextmanager
def large_sqlite_cache(session: Session) -> Iterator[None]:
    """On SQLite, a page cache big enough for the random-UUID indexes of a large build (it halves
    the time at 100k cases), for this connection only and restored afterwards."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


class BulkWriter:
    """Buffers row dicts and inserts them with one executemany per table, parents first, every
    `batch_rows` rows. Rows are added parent before child, so flushing in table order keeps
    every foreign key satisfied. The ORM's per-row trail is bypassed on purpose."""

    def __init__(self, session: Session, batch_rows: int) -> None:
        self.session = session
        self.batch_rows = batch_rows
        order = {table.name: index for index, table in enumerate(Base.metadata.sorted_tables)}
        self.models = sorted(EDITABLE_MODELS, key=lambda m: order[m.__tablename__])
        self.pending: dict[type[Record], list[dict[str, Any]]] = {m: [] for m in self.models}
        self.buffered = 0
        self.counts: Counter[str] = Counter()

    def add(self, model: type[Record], row: dict[str, Any]) -> None:
        self.pending[model].append(row)
        self.buffered += 1
        if self.buffered >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        for model in self.models:
            rows = self.pending[model]
            if rows:
                # Core, not the ORM's bulk insert: that splits a batch into one statement per
                # pattern of None values, which made the build half again as slow.
                self.session.connection().execute(insert(model.__table__), rows)
                self.counts[model.__tablename__] += len(rows)
                self.pending[model] = []
        self.buffered = 0
