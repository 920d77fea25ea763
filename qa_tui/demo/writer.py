"""Streaming the demo council into the database, parents first: on PostgreSQL with COPY (psycopg's
copy protocol, so a million-case council takes minutes), on SQLite with one executemany per table
and batch inside the build's one transaction, with a larger page cache while the build runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, inspect
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
    """Buffers row dicts and writes them with one COPY or executemany per table, parents first, every
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
        self.present: dict[str, set[str]] = {}

    def add(self, model: type[Record], row: dict[str, Any]) -> None:
        self.pending[model].append(row)
        self.buffered += 1
        if self.buffered >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        for model in self.models:
            rows = self.pending[model]
            if rows:
                self._write(model.__table__, rows)
                self.counts[model.__tablename__] += len(rows)
                self.pending[model] = []
        self.buffered = 0

    def _write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """The rows on the session's own connection (so inside its transaction): COPY on
        PostgreSQL, one executemany on SQLite. Each value is bound as a Core insert would bind it
        (the column's Python default where the row has none, then the type's bind processing: UUID,
        JSON text, UTC timestamps), but without building SQLAlchemy's parameters row by row, which
        took most of a SQLite build's time."""
        conn = self.session.connection()
        if table.name not in self.present:  # a schema older than the models lacks later columns
            self.present[table.name] = {c["name"] for c in inspect(conn).get_columns(table.name)}
        present = self.present[table.name]
        given = [name for name in rows[0] if name in present]
        defaulted = [c for c in table.c if c.name not in given and c.name in present
                     and c.default is not None and not c.default.is_sequence]
        columns = [table.c[name] for name in given] + defaulted
        processors = [c.type._cached_bind_processor(conn.dialect) for c in columns]  # noqa: SLF001
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in columns)

        def values() -> Iterator[list[Any]]:
            for row in rows:
                raw = [row[name] for name in given] + [_default(c) for c in defaulted]
                yield [p(v) if p is not None else v for p, v in zip(processors, raw, strict=True)]

        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dialect.name == "postgresql":
                with cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy:
                    for value in values():
                        copy.write_row(value)
            else:
                cursor.executemany(f"INSERT INTO {quote(table.name)} ({names}) VALUES "
                                   f"({', '.join('?' * len(columns))})", values())
        finally:
            cursor.close()


def _default(column: Any) -> Any:
    default = column.default
    return default.arg(None) if default.is_callable else default.arg
